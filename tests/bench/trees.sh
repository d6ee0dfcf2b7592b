# Sourced by the collect benchmarks: make_trees ROUND writes $work/big-ROUND
# ($big_files files of 8 MiB) and $work/small-ROUND ($small_files files of
# 4 KiB in 100 folders), random bytes.
make_trees() {
  python3 - "$work" "$1" "$big_files" "$small_files" <<'PY'
import os, sys
work, r, big, small = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
os.makedirs(f"{work}/big-{r}")
for i in range(big):
    with open(f"{work}/big-{r}/f{i}.bin", "wb") as f:
        f.write(os.urandom(8 << 20))
for d in range(100):
    os.makedirs(f"{work}/small-{r}/d{d}")
    for i in range(small // 100):
        with open(f"{work}/small-{r}/d{d}/f{i}.dat", "wb") as f:
            f.write(os.urandom(4096))
PY
}
