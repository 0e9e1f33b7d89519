# The repository is whole on its own: no tracked file points outside the checkout (a sibling
# directory, an absolute path on the machine it was written on) or to how the work on it was
# organised (issue numbers, notes that are not in the repository), and every relative link of
# the Markdown pages names a file that exists. A clone with nothing beside it must build, test
# and read completely. ctest runs this as `bash test_self_contained.sh <lucidc>` (lucidc is not
# used); outside a git checkout there is nothing to list, so it skips (exit 77).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

if ! command -v git >/dev/null 2>&1 || ! git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "SKIP: $ROOT is not a git checkout (or git is missing), so there are no tracked files to check"
    exit 77
fi

FAILS=0
# Each alternative is spelled so that this file does not match itself ([/], [ ]). A bare
# section sign and number pointed into design notes that are not in the repository.
PATTERN='shared[/]|\.\./shared|/work[/]|issue [0-9]|seed[ ]page|the original[ ]library|DESIGN\.md|INTERFACES\.md|STYLE\.md|§[0-9]'
if hits=$(git -C "$ROOT" grep -n -I -i -E "$PATTERN"); then
    echo "FAIL: tracked files refer outside the repository or to how it was organised:" >&2
    echo "$hits" >&2
    FAILS=$((FAILS + 1))
fi

# Relative links in Markdown, [text](target): the target (without #anchor) must exist.
while IFS= read -r md; do
    dir=$(dirname "$ROOT/$md")
    while IFS= read -r target; do
        case $target in http://* | https://* | mailto:* | '#'*) continue ;; esac
        path=${target%%#*}
        if [ ! -e "$dir/$path" ]; then
            echo "FAIL: $md links to $target, which does not exist" >&2
            FAILS=$((FAILS + 1))
        fi
    done < <(grep -oE '\]\([^) ]+\)' "$ROOT/$md" | sed -E 's/^\]\((.*)\)$/\1/')
done < <(git -C "$ROOT" ls-files '*.md')

if [ "$FAILS" -ne 0 ]; then exit 1; fi
echo "ok: no tracked file refers outside the repository; every Markdown link resolves"
