# The runtime's quiesce signal stays out of programs' way: by default it is none that
# common runtimes use, CR_SIGNUM chooses it, and a program that takes it anyway (here:
# CR_SIGNUM is the very signal the program wants, as SIGRTMAX-2 is the JDK's) gets it
# while the runtime moves to another; the program sees its own mask and handler.  The
# JDK compiles and runs under cr_run, and a Java program doing file I/O is checkpointed
# and restarted.
. "$top_srcdir/tests/engine/lib.sh"
cd "$T"
for want in 62 50 34; do
    within 60 "$PROGS/sigowner" $want 15 > "ref.$want" || fail "sigowner $want failed alone: $(cat "ref.$want")"
    bg env CR_SIGNUM=$want "$CR_RUN" "$PROGS/sigowner" $want 15 > "out.$want" 2> "err.$want"
    pid=$!
    wait_runtime $pid
    wait_lines "out.$want" 4
    within 30 "$CR_CHECKPOINT" --kill -f "s.$want.ctx" $pid 2> "ck.$want.err" ||
        fail "a program owning signal $want cannot be checkpointed: $(cat "ck.$want.err" "out.$want")"
    wait_gone $pid
    truncate -s "$(fd_pos "s.$want.ctx" 1)" "out.$want"
    within 60 "$CR_RESTART" "s.$want.ctx" 2> "restart.$want.err" ||
        fail "signal $want: the restarted program failed: $(cat "restart.$want.err"; tail -n 2 "out.$want")"
    same "ref.$want" "out.$want"
done

command -v javac > /dev/null && command -v java > /dev/null || fail "a JDK is needed (scripts/install-deps installs default-jdk-headless)"
cat > Loop.java <<'JEOF'
import java.io.*;
import java.nio.file.*;
public class Loop {
    public static void main(String[] a) throws Exception {
        long sum = 0;
        Path p = Paths.get(a[0]);
        for (int i = 0; i < 40; i++) {
            for (int k = 0; k < 200000; k++) sum += (k * (long) i) % 7;
            Files.writeString(p, i + " " + sum + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            System.out.println(i + " " + sum);
            Thread.sleep(50);
        }
    }
}
JEOF
within 300 "$CR_RUN" javac Loop.java 2> javac.err || fail "javac under cr_run failed: $(tail -n 5 javac.err)"
within 120 java -Xshare:off Loop ref.file > ref.java || fail "the Java reference run failed"
bg "$CR_RUN" java -Xshare:off Loop out.file > out.java 2> java.err
pid=$!
wait_runtime $pid
wait_lines out.file 10 120
within 60 "$CR_CHECKPOINT" --kill -f java.ctx $pid 2> java.ckpt.err || fail "the JVM cannot be checkpointed: $(cat java.ckpt.err)"
wait_gone $pid
truncate -s "$(fd_pos java.ctx 1)" out.java
within 120 "$CR_RESTART" java.ctx 2> java.restart.err || fail "the restarted JVM failed: $(tail -n 5 java.restart.err java.err)"
same ref.java out.java
same ref.file out.file
pass
