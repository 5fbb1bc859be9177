package dev.hmmmirror.tool;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code hmm} command, the project's only command line: the guest suite, images, benchmarks and
 * explorer campaigns, and any command, Java program or shell in a guest. Exit codes as virtme-ng and {@code git bisect run} want
 * them: the command's own (run), 0/1 (suite), 2 kernel splat, 125 could not build or boot.
 */
@Command(name = "hmm", mixinStandardHelpOptions = true, version = "hmm-mirror 0.1.0-SNAPSHOT",
        description = "Boot Linux kernels with HMM in QEMU, load hmm_mirror.ko, and run commands, Java programs, "
                + "a shell or the guest suite there.",
        subcommands = {Run.class, Shell.class, Suite.class, Matrix.class, Explore.class, Mutate.class, Images.class, Demo.class,
            Benchmarks.Boot.class, Benchmarks.MatrixBench.class, Benchmarks.MirrorBench.class, Benchmarks.MigrationBench.class,
            Benchmarks.DriverBench.class, Benchmarks.RdmaBench.class, AutoComplete.GenerateCompletion.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success (run: the command's own exit code)", "1:tests failed (suite, matrix)",
            "2:kernel splat (Oops, BUG, WARNING, KASAN, lockdep, hung task) or the guest died",
            "125:could not build or boot (git bisect run skips the commit); also a usage error"})
public final class Hmm implements Runnable {
    /** Exit code: could not build or boot, or a usage error. */
    static final int CANNOT_RUN = 125;
    /** Exit code: a kernel splat, or the guest died. */
    static final int SPLAT = 2;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with its exit codes set (tests use it too). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Hmm());
        setExitCodes(cl);
        // `hmm run ls -la`: everything after the command's first word is the command's
        cl.getSubcommands().get("run").setStopAtPositional(true);
        cl.getSubcommands().get("generate-completion").getCommandSpec().usageMessage().hidden(false);
        return cl;
    }

    private static void setExitCodes(CommandLine cl) {
        cl.getCommandSpec().exitCodeOnInvalidInput(CANNOT_RUN);
        cl.getCommandSpec().exitCodeOnExecutionException(CANNOT_RUN);
        cl.getSubcommands().values().forEach(Hmm::setExitCodes);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
