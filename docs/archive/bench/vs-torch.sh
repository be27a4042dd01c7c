#!/bin/bash
# The sRb-VAE training step against the independent eager PyTorch step (the script named by $TORCH_REF: not part of this project),
# back to back: TF (`bench train`, the paper's objective) then torch, 1 warm-up pair + 3 counted pairs per size.
#   VENV=/path/to/torch-venv OUT=results.txt docs/archive/bench/vs-torch.sh
# (the venv: python -m venv VENV && VENV/bin/pip install torch==2.13.0 numpy; never a project dependency)
cd "$(dirname "$0")/../../.." || exit 1
out=${OUT:-vs-torch.txt}
echo "# $(date -u) $(lscpu | grep 'Model name' | sed 's/  */ /g') avx512f=$(grep -c avx512f /proc/cpuinfo) load=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$out"
for cfg in "32 0.5 20 5 22" "64 1.0 8 3 10"; do
  set -- $cfg
  for pair in warm 1 2 3; do
    tf=$(python cli.py bench train --model srbvae --budget paper --image-size "$1" --width "$2" --jit off --repeats "$3" --warmup "$4" 2>/dev/null | tail -1)
    th=$("${VENV:?set VENV to the torch venv}/bin/python" "${TORCH_REF:?set TORCH_REF to the PyTorch step script}" "$1" 36 "$2" "$5" 2>/dev/null | tail -1)
    echo "size=$1 width=$2 pair=$pair load=$(cut -d' ' -f1 /proc/loadavg) TF=$tf TORCH=$th" >> "$out"
  done
done
echo "# done $(date -u)" >> "$out"
