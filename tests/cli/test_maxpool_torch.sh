# MaxPool1d/MaxPool2d against PyTorch through lucidc run, both engines (maxpool_torch.py).
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c 'import torch' 2>/dev/null || exit 77
/usr/bin/python3 "$HERE/maxpool_torch.py" "$LUCIDC" "$TMP" || fail "MaxPool results differ from PyTorch"
finish
