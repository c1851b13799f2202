#!/bin/sh
# Print the path of a working Python >= 3.12, or fail with a clear message.
# Order: $PYTHON, python3.13, python3.12, python3, then pyenv's installed 3.12+ interpreters.
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
candidates="${PYTHON:-} python3.13 python3.12 python3"
if command -v pyenv >/dev/null 2>&1; then
    root=$(pyenv root 2>/dev/null)
    for d in "$root"/versions/3.1[2-9]*/bin/python3; do candidates="$candidates $d"; done
fi
for c in $candidates; do
    [ -n "$c" ] || continue
    if ok "$c"; then
        command -v "$c" 2>/dev/null || echo "$c"
        exit 0
    fi
done
echo "error: no working Python >= 3.12 found (tried: $candidates); install one or set PYTHON=/path/to/python3.12" >&2
exit 1
