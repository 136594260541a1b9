#!/usr/bin/env bash
# The dependency floors: install symnn into a fresh venv with every dependency at the floor that
# pyproject.toml declares (the == pins of .ci/lowest.txt), then run a fast subset of the tests
# (derivations, codegen, training, data, images, filters, feature maps, the parser, symnn check) against that
# installed copy and build the whole course book, so that a declared floor cannot lie.
#   bash .ci/lowest.sh            (run by .ci/run; ~5-6 min on 2 cores, most of it the tests)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
py=${PYTHON:-python}
version=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
case "$version" in
  3.10|3.11) ;;
  *) echo "lowest.sh: the floors are installable on Python 3.10 and 3.11 only (no wheels of them for $version); skipped"
     exit 0 ;;
esac
work=$(mktemp -d "${TMPDIR:-/tmp}/symnn-lowest.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$SECONDS
"$py" -m venv "$work/venv"
vpy=$work/venv/bin/python
"$vpy" -m pip install -q --only-binary numpy,scipy,numba,llvmlite,matplotlib,pillow,scikit-learn \
  -c .ci/lowest.txt ".[test]"
"$vpy" -m pip check
# Every declared floor is the version installed (and the copy under test is the installed one).
(cd "$work" && "$vpy" - <<'PY'
import re
from importlib.metadata import requires, version
import symnn
assert "/venv/" in symnn.__file__, symnn.__file__
bad = []
for req in requires("symnn"):
    if "extra ==" in req:
        continue
    name, floor = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", req.strip()).groups()
    if version(name) != floor:
        bad.append(f"{name}: declared >={floor}, installed {version(name)}")
    print(f"  {name} {version(name)}")
assert not bad, "floors not installed: " + "; ".join(bad)
PY
)
echo "lowest.sh: installed the floors in $((SECONDS - start)) s"
# The tests run from tests/ so that `import symnn` finds the installed copy, not the checkout.
(cd tests && "$vpy" -m pytest -q -p no:cacheprovider \
  derive/test_derive.py codegen/test_codegen.py parse/test_parse.py nn/test_nn.py nn/test_data.py vision/test_feature_maps.py \
  vision/test_images.py vision/test_filters.py checking/test_check.py \
  -k "not slow and not float32_switch and not fastmath_switch")
echo "lowest.sh: tests done at $((SECONDS - start)) s"
# The main job at the floors (with its progress bar: tqdm's floor is the bar's format).
SYMNN_CACHE_DIR=$work/cache "$work/venv/bin/symnn" course build --no-pdf --out "$work/course"
echo "lowest.sh: the floors pass; $((SECONDS - start)) s in all"
