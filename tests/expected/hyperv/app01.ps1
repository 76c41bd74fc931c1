# Made by vmconv 0.1.0: creates this VM on Hyper-V from the disks beside
# this script.  On the Hyper-V host, as an administrator:
#   .\app01.ps1 [-Name NAME] [-DiskPath DIR] [-VMPath DIR]
#Requires -Modules Hyper-V
[CmdletBinding()]
param(
    [string]$Name = 'app01',
    [string]$DiskPath = $PSScriptRoot,
    [string]$VMPath = $PSScriptRoot
)
$ErrorActionPreference = 'Stop'

$vm = New-VM -Name $Name -Generation 2 -MemoryStartupBytes 2147483648 -NoVHD -Path $VMPath
Get-VMNetworkAdapter -VM $vm | Remove-VMNetworkAdapter
Get-VMDvdDrive -VM $vm | Remove-VMDvdDrive
Set-VMProcessor -VM $vm -Count 4 -ExposeVirtualizationExtensions $true
Set-VMFirmware -VM $vm -EnableSecureBoot On -SecureBootTemplate MicrosoftUEFICertificateAuthority
$drive0 = Add-VMHardDiskDrive -VM $vm -ControllerType SCSI -ControllerNumber 0 -ControllerLocation 0 -Path (Join-Path $DiskPath 'app01-disk0.vhdx') -Passthru
$drive1 = Add-VMHardDiskDrive -VM $vm -ControllerType SCSI -ControllerNumber 0 -ControllerLocation 1 -Path (Join-Path $DiskPath 'app01-disk1.vhdx') -Passthru
$drive2 = Add-VMDvdDrive -VM $vm -ControllerNumber 0 -ControllerLocation 2 -Passthru
Set-VMFirmware -VM $vm -FirstBootDevice $drive0
$nic0 = Add-VMNetworkAdapter -VM $vm -Name 'Network Adapter 1' -StaticMacAddress '525400123456' -Passthru
$switch = 'br0'
if (Get-VMSwitch -Name $switch -ErrorAction SilentlyContinue) {
    Connect-VMNetworkAdapter -VMNetworkAdapter $nic0 -SwitchName $switch
} else {
    Write-Warning ('no virtual switch {0}: the network adapter is left unconnected' -f $switch)
}
$vm
