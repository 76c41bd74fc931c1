# Made by vmconv 0.1.0: creates this VM on Hyper-V from the disks beside
# this script.  On the Hyper-V host, as an administrator:
#   .\sql02.ps1 [-Name NAME] [-DiskPath DIR] [-VMPath DIR]
#Requires -Modules Hyper-V
[CmdletBinding()]
param(
    [string]$Name = 'sql02',
    [string]$DiskPath = $PSScriptRoot,
    [string]$VMPath = $PSScriptRoot
)
$ErrorActionPreference = 'Stop'

$vm = New-VM -Name $Name -Generation 2 -MemoryStartupBytes 8589934592 -NoVHD -Path $VMPath
Get-VMNetworkAdapter -VM $vm | Remove-VMNetworkAdapter
Get-VMDvdDrive -VM $vm | Remove-VMDvdDrive
Set-VMProcessor -VM $vm -Count 8
Set-VMMemory -VM $vm -DynamicMemoryEnabled $true -MinimumBytes 2147483648 -StartupBytes 8589934592 -MaximumBytes 17179869184
Set-VM -VM $vm -Notes 'SQL Server
second line[31m escape stays inert'
Set-VMFirmware -VM $vm -EnableSecureBoot On -SecureBootTemplate MicrosoftWindows
Set-VMKeyProtector -VM $vm -NewLocalKeyProtector
Enable-VMTPM -VM $vm
Add-VMScsiController -VM $vm
$drive0 = Add-VMHardDiskDrive -VM $vm -ControllerType SCSI -ControllerNumber 0 -ControllerLocation 0 -Path (Join-Path $DiskPath 'sql02-disk0.vhdx') -Passthru
$drive1 = Add-VMHardDiskDrive -VM $vm -ControllerType SCSI -ControllerNumber 1 -ControllerLocation 0 -Path (Join-Path $DiskPath 'sql02-disk1.vhdx') -Passthru
$iso = Join-Path $DiskPath 'SQLServer2019.iso'
if (Test-Path -LiteralPath $iso) {
    $drive3 = Add-VMDvdDrive -VM $vm -ControllerNumber 0 -ControllerLocation 1 -Path $iso -Passthru
} else {
    Write-Warning ('{0} is not there: the DVD drive is left empty' -f $iso)
    $drive3 = Add-VMDvdDrive -VM $vm -ControllerNumber 0 -ControllerLocation 1 -Passthru
}
Set-VMFirmware -VM $vm -FirstBootDevice $drive0
$nic0 = Add-VMNetworkAdapter -VM $vm -Name 'Network Adapter 1' -StaticMacAddress '00155D0A0B0C' -Passthru
$switch = 'prod-net'
if (Get-VMSwitch -Name $switch -ErrorAction SilentlyContinue) {
    Connect-VMNetworkAdapter -VMNetworkAdapter $nic0 -SwitchName $switch
} else {
    Write-Warning ('no virtual switch {0}: the network adapter is left unconnected' -f $switch)
}
Set-VMNetworkAdapterVlan -VMNetworkAdapter $nic0 -Access -VlanId 120
$nic1 = Add-VMNetworkAdapter -VM $vm -Name 'Network Adapter 2' -Passthru
$vm
