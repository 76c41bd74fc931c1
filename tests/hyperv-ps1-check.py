#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Check that a PowerShell script written by the hyperv plugin holds
every value from the source only inside single-quoted strings.

Usage: hyperv-ps1-check.py SCRIPT.ps1 VALUE...

The script is tokenized as PowerShell reads it: comments (# to the end
of the line), single-quoted strings (which PowerShell also opens and
closes with the typographic quotes U+2018-U+201B, two of them in a row
being one literal quote), and the code between them.  It fails if the
file does not start with a UTF-8 byte order mark, holds a double-quoted
string or a here-string (PowerShell would expand $ and ` in those),
a VALUE is not one of the single-quoted strings, or a piece of a VALUE
that PowerShell could act on (a line of it with $, `, a quote or #) is
seen in the code or in a comment.
"""

import sys

QUOTES = "'\u2018\u2019\u201a\u201b"


def tokenize(text):
    code, comments, strings = [], [], []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            j = text.find("\n", i)
            j = n if j < 0 else j
            comments.append(text[i:j])
            i = j
        elif c in QUOTES:
            j, val = i + 1, []
            while True:
                if j >= n:
                    raise SystemExit("unterminated single-quoted string at %d" % i)
                if text[j] in QUOTES:
                    if j + 1 < n and text[j + 1] in QUOTES:
                        val.append(text[j])
                        j += 2
                        continue
                    break
                val.append(text[j])
                j += 1
            strings.append("".join(val))
            code.append(" ")
            i = j + 1
        elif c in "\"\u201c\u201d\u201e":
            raise SystemExit("a double-quoted string at character %d: %r"
                             % (i, text[i:i + 40]))
        elif c == "@" and i + 1 < n and text[i + 1] in "'\"":
            raise SystemExit("a here-string at character %d" % i)
        else:
            code.append(c)
            i += 1
    return "".join(code), comments, strings


def main():
    raw = open(sys.argv[1], "rb").read()
    if not raw.startswith(b"\xef\xbb\xbf"):
        raise SystemExit("no UTF-8 byte order mark")
    code, comments, strings = tokenize(raw[3:].decode("utf-8"))
    for v in sys.argv[2:]:
        if v not in strings:
            raise SystemExit("%r is not one of the script's strings" % v)
        for piece in v.splitlines():
            piece = piece.strip()
            if len(piece) < 2 or not any(ch in piece for ch in "$`#'\"" + QUOTES):
                continue
            if piece in code:
                raise SystemExit("%r appears in the code" % piece)
            for cm in comments:
                if piece in cm:
                    raise SystemExit("%r appears in a comment" % piece)
    return 0


if __name__ == "__main__":
    sys.exit(main())
