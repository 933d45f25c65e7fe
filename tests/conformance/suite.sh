# The conformance suite (tests/conformance/run.sh) as one test of make check: every
# program of tests/conformance/ under cr_run without a checkpoint, restarted after a
# checkpoint --kill, going on after a copy-on-write checkpoint, and without cr_run
# checkpointed through ptrace (--backend=kmod) and restarted; the failures
# listed in tests/conformance/KNOWN do not fail it.  The programs are built by make
# check (check_PROGRAMS); this script builds nothing.  The logs of the last run's
# failed and known runs stay in tests/conformance/logs/ of the build tree (or
# $CONF_KEEP).
. "$top_srcdir/tests/engine/lib.sh"
[ -x "$top_builddir/tests/conformance/umask" ] || fail "the conformance programs are not built (make check builds them)"
KEEP=${CONF_KEEP:-$top_builddir/tests/conformance/logs}
rm -rf "$KEEP"/run.*
rc=0
within 900 bash "$top_srcdir/tests/conformance/run.sh" -k "$KEEP" > "$T/suite.out" 2>&1 || rc=$?
cat "$T/suite.out"
# the message names each failure: CI summaries keep only the last lines of a log
[ $rc = 0 ] || fail "the conformance suite failed (exit $rc): $(grep -c '^FAIL' "$T/suite.out") failures not in KNOWN: $(grep '^FAIL' "$T/suite.out" | cut -c6-300 | paste -sd';')"
pass
