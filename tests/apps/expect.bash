# Shared by the command-line tests (sourced, not run; *.sh files are the tests).
# expect CODE DESCRIPTION -- COMMAND...: runs COMMAND with its output in out.txt and err.txt and checks its exit code.
fail=0
expect() {
  local want="$1" what="$2"; shift 3
  "$@" >out.txt 2>err.txt; local got=$?
  if [[ "$got" != "$want" ]]; then
    echo "FAIL: $what: exit $got, expected $want"; cat out.txt err.txt; fail=1
  else
    echo "ok: $what (exit $got)"
  fi
}
