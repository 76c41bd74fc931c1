<#
.SYNOPSIS
    Describe a Hyper-V VM as JSON that vmconv reads as a source.

.DESCRIPTION
    For a Hyper-V host where exporting the VM (Export-VM) is not
    possible: run this on the host (Hyper-V PowerShell module, as an
    administrator), copy the JSON and the VM's disk files (.vhdx,
    .avhdx, .vhd, .iso) into one folder, and give vmconv the JSON:

        .\vmconv-hyperv-export.ps1 -Name web01 | Out-File -Encoding utf8 web01.json
        vmconv inspect web01.json

    vmconv finds each disk by its file name in the JSON's folder (or
    its "Virtual Hard Disks" and "Snapshots" subfolders).  Shut the VM
    down first: the disks of a running or saved VM are not those of a
    shut-down guest (vmconv refuses a saved VM).

    Enumerations and dates are written as strings, so the output is the
    same from Windows PowerShell 5.1 and PowerShell 7.
#>
param(
    [Parameter(Mandatory = $true)][string]$Name,
    [string]$ComputerName = 'localhost'
)

$ErrorActionPreference = 'Stop'
$vm = Get-VM -Name $Name -ComputerName $ComputerName

function Drive($d) {
    [pscustomobject]@{
        ControllerType     = $d.ControllerType.ToString()
        ControllerNumber   = $d.ControllerNumber
        ControllerLocation = $d.ControllerLocation
        Path               = $d.Path
    }
}

$firmware = $null
$bios = $null
if ($vm.Generation -eq 2) {
    $fw = Get-VMFirmware -VM $vm
    $firmware = [pscustomobject]@{
        SecureBoot         = $fw.SecureBoot.ToString()
        SecureBootTemplate = $fw.SecureBootTemplate
        BootOrder          = @($fw.BootOrder | ForEach-Object {
            $dev = $_.Device
            [pscustomobject]@{
                BootType           = $_.BootType.ToString()
                ControllerType     = if ($dev -and $dev.ControllerType) { $dev.ControllerType.ToString() } else { $null }
                ControllerNumber   = if ($dev) { $dev.ControllerNumber } else { $null }
                ControllerLocation = if ($dev) { $dev.ControllerLocation } else { $null }
            }
        })
    }
} else {
    $bios = [pscustomobject]@{
        StartupOrder = @((Get-VMBios -VM $vm).StartupOrder | ForEach-Object { $_.ToString() })
    }
}

[pscustomobject]@{
    vmconv               = 'hyperv-get-vm/1'
    Name                 = $vm.Name
    Id                   = $vm.Id.ToString()
    Generation           = $vm.Generation
    Version              = $vm.Version
    State                = $vm.State.ToString()
    Notes                = $vm.Notes
    ProcessorCount       = $vm.ProcessorCount
    MemoryStartup        = $vm.MemoryStartup
    DynamicMemoryEnabled = $vm.DynamicMemoryEnabled
    MemoryMinimum        = $vm.MemoryMinimum
    MemoryMaximum        = $vm.MemoryMaximum
    TpmEnabled           = if ($vm.Generation -eq 2) { (Get-VMSecurity -VM $vm).TpmEnabled } else { $false }
    Firmware             = $firmware
    Bios                 = $bios
    HardDrives           = @(Get-VMHardDiskDrive -VM $vm | ForEach-Object { Drive $_ })
    DvdDrives            = @(Get-VMDvdDrive -VM $vm | ForEach-Object { Drive $_ })
    NetworkAdapters      = @(Get-VMNetworkAdapter -VM $vm | ForEach-Object {
        $vlan = Get-VMNetworkAdapterVlan -VMNetworkAdapter $_
        [pscustomobject]@{
            Name                    = $_.Name
            MacAddress              = $_.MacAddress
            DynamicMacAddressEnabled = $_.DynamicMacAddressEnabled
            IsLegacy                = $_.IsLegacy
            SwitchName              = $_.SwitchName
            Connected               = [bool]$_.SwitchName
            VlanMode                = $vlan.OperationMode.ToString()
            VlanId                  = $vlan.AccessVlanId
        }
    })
    ParentCheckpointId   = if ($vm.ParentCheckpointId) { $vm.ParentCheckpointId.ToString() } else { $null }
    Checkpoints          = @(Get-VMSnapshot -VM $vm | ForEach-Object {
        [pscustomobject]@{
            Id                 = $_.Id.ToString()
            Name               = $_.Name
            ParentCheckpointId = if ($_.ParentCheckpointId) { $_.ParentCheckpointId.ToString() } else { $null }
            CreationTime       = $_.CreationTime.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')
        }
    })
} | ConvertTo-Json -Depth 6
