# Made by vmconv 0.1.0: creates this VM on Hyper-V from the disks beside
# this script.  On the Hyper-V host, as an administrator:
#   .\db01.ps1 [-Name NAME] [-DiskPath DIR] [-VMPath DIR]
#Requires -Modules Hyper-V
[CmdletBinding()]
param(
    [string]$Name = 'db01',
    [string]$DiskPath = $PSScriptRoot,
    [string]$VMPath = $PSScriptRoot
)
$ErrorActionPreference = 'Stop'

$vm = New-VM -Name $Name -Generation 1 -MemoryStartupBytes 3223322624 -NoVHD -Path $VMPath
Get-VMNetworkAdapter -VM $vm | Remove-VMNetworkAdapter
Get-VMDvdDrive -VM $vm | Remove-VMDvdDrive
$drive0 = Add-VMHardDiskDrive -VM $vm -ControllerType IDE -ControllerNumber 0 -ControllerLocation 0 -Path (Join-Path $DiskPath 'db01-disk0.vhdx') -Passthru
$drive1 = Add-VMHardDiskDrive -VM $vm -ControllerType IDE -ControllerNumber 0 -ControllerLocation 1 -Path (Join-Path $DiskPath 'db01-disk1.vhdx') -Passthru
$drive2 = Add-VMDvdDrive -VM $vm -ControllerNumber 1 -ControllerLocation 0 -Passthru
Set-VMBios -VM $vm -StartupOrder @('IDE', 'CD', 'LegacyNetworkAdapter', 'Floppy')
$nic0 = Add-VMNetworkAdapter -VM $vm -Name 'Network Adapter 1' -IsLegacy $true -StaticMacAddress '525400123456' -Passthru
$switch = 'br0'
if (Get-VMSwitch -Name $switch -ErrorAction SilentlyContinue) {
    Connect-VMNetworkAdapter -VMNetworkAdapter $nic0 -SwitchName $switch
} else {
    Write-Warning ('no virtual switch {0}: the network adapter is left unconnected' -f $switch)
}
$vm
