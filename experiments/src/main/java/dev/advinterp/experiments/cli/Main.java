package dev.advinterp.experiments.cli;

import dev.advinterp.engine.backend.DeviceUnavailableException;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/** The {@code advinterp} command line. */
@Command(name = "advinterp",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Interpretable deep networks through adversarial examples, on a Java deep-learning engine.",
        subcommands = {DoctorCommand.class, DemoCommand.class, TrainCommand.class, AttackCommand.class, MemoryCommand.class, ConvertCommand.class,
                EvaluateCommand.class, ConsistencyCommand.class, DissectCommand.class, MapsCommand.class, DataCommand.class, WordNetCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, for tests. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        // A bad argument is a one-line message and the usage, not a stack trace.
        cl.setExecutionExceptionHandler((ex, line, parse) -> {
            // --device cuda where CUDA cannot be used: the reason, before anything was written.
            if (ex instanceof DeviceUnavailableException d) {
                line.getErr().println(line.getColorScheme().errorText("advinterp: " + d.device() + " cannot be used: " + d.getMessage()
                        + " (--device cpu or auto computes on the CPU)"));
                return 1;
            }
            if (ex instanceof IllegalArgumentException || ex instanceof IllegalStateException || ex instanceof ArithmeticException) {
                line.getErr().println(line.getColorScheme().errorText("advinterp: " + ex.getMessage()));
                return 2;
            }
            // A file that cannot be read or written: one line naming it, exit code 1.
            Throwable io = ex instanceof java.io.UncheckedIOException u ? u.getCause() : ex;
            if (io instanceof java.nio.file.NoSuchFileException nf) {
                line.getErr().println(line.getColorScheme().errorText("advinterp: no such file: " + nf.getFile()));
                return 1;
            }
            if (io instanceof java.io.IOException) {
                line.getErr().println(line.getColorScheme().errorText("advinterp: " + io.getMessage()));
                return 1;
            }
            throw ex;
        });
        return cl;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"advinterp " + (v == null ? "development build" : v) + " on Java " + Runtime.version()};
        }
    }
}
