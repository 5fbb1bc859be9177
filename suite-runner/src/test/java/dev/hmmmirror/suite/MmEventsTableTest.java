package dev.hmmmirror.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MmEventsTableTest {
    @Test
    void rowsOfSeveralRunsBecomeOneColumnPerKernelAndTheLastRowWins(@TempDir Path root) throws Exception {
        Path sid = root.resolve("debian-sid/out/mm-events.tsv");
        Path built = root.resolve("built-7.2/out/mm-events.tsv");
        Files.createDirectories(sid.getParent());
        Files.createDirectories(built.getParent());
        Files.writeString(sid, "debian-sid\tKSM\tCLEAR\tfail: x\ndebian-sid\tKSM\tCLEAR\tpass: 8 merged\n"
                + "debian-sid\tOOM\tnone\tpass: released\n");
        Files.writeString(built, "built-7.2\tKSM\tCLEAR,UNMAP\tpass: 8|merged\n");
        String table = MmEventsTable.markdown(MmEventsTable.collect(List.of(root)));
        assertEquals("""
                | event | built-7.2 | debian-sid |
                |---|---|---|
                | KSM | CLEAR,UNMAP: pass: 8/merged | CLEAR: pass: 8 merged |
                | OOM | (not run) | pass: released |
                """, table);
    }
}
