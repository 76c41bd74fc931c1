#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The PowerShell the hyperv plugin writes, and samples/hyperv's script,
# parse without errors in PowerShell's own parser.  Needs pwsh
# (PowerShell 7), which Debian does not package: skipped (77) without
# it.  hyperv-write.sh checks the scripts without pwsh (golden files,
# quoting).
. "$srcdir/functions.sh"
requires pwsh

for f in "$srcdir"/expected/hyperv/*.ps1 "$top_srcdir/samples/hyperv/vmconv-hyperv-export.ps1"; do
    pwsh -NoProfile -NonInteractive -Command '
        $errors = $null
        [void][System.Management.Automation.Language.Parser]::ParseFile($args[0], [ref]$null, [ref]$errors)
        if ($errors.Count) { $errors | ForEach-Object { Write-Output $_.ToString() }; exit 1 }' "$f" ||
        fail "$f: PowerShell syntax errors"
done
