package dev.advinterp.experiments.cli;

import dev.advinterp.engine.EngineConfig;
import dev.advinterp.engine.backend.DeviceUnavailableException;
import picocli.CommandLine.Command;
import picocli.CommandLine;

import java.util.function.Supplier;

/** The {@code advinterp} command line. */
@Command(name = "advinterp",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Interpretable deep networks through adversarial examples, on a Java deep-learning engine.",
        subcommands = {DoctorCommand.class, DemoCommand.class, TrainCommand.class, AttackCommand.class, MemoryCommand.class, ConvertCommand.class,
                EvaluateCommand.class, ConsistencyCommand.class, DissectCommand.class, MapsCommand.class, ReproduceCommand.class, DataCommand.class, WordNetCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        String bad = settingsError(() -> EngineConfig.current());
        if (bad != null) {
            System.err.println("advinterp: " + printable(bad));
            System.exit(2);
        }
        System.exit(commandLine().execute(args));
    }

    /**
     * The message of an engine setting it cannot use (an {@code ADVINTERP_*} variable or
     * {@code -Dadvinterp.*} property, named in the message), or null. Read before any command, so
     * that a bad value is one line, not a failure deep inside the first backend to start.
     */
    static String settingsError(Supplier<EngineConfig> settings) {
        try {
            settings.get();
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    /** The configured command line, for tests. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        // A bad argument is a one-line message and the usage, not a stack trace.
        cl.setExecutionExceptionHandler((ex, line, parse) -> {
            String message = describe(ex);
            if (message == null) throw ex;
            line.getErr().println(line.getColorScheme().errorText("advinterp: " + printable(message)));
            return ex instanceof DeviceUnavailableException || io(ex) != null ? 1 : 2;
        });
        return cl;
    }

    /**
     * The one line a failure is reported by, or null for a failure that is a bug (then the stack
     * trace is printed). Bad input: the exception's own message, which names the file or option.
     * A file that cannot be read or written: the file and the cause.
     */
    static String describe(Exception ex) {
        // --device cuda where CUDA cannot be used: the reason, before anything was written.
        if (ex instanceof DeviceUnavailableException d) {
            return d.device() + " cannot be used: " + d.getMessage() + " (--device cpu or auto computes on the CPU)";
        }
        if (ex instanceof IllegalArgumentException || ex instanceof IllegalStateException || ex instanceof ArithmeticException) {
            return ex.getMessage();
        }
        java.io.IOException io = io(ex);
        if (io == null) return null;
        if (io instanceof java.nio.file.NoSuchFileException nf) return "no such file: " + nf.getFile();
        if (io instanceof java.nio.file.AccessDeniedException ad) return "permission denied: " + ad.getFile();
        if (io instanceof java.nio.file.FileSystemException fs && fs.getFile() != null) {
            String reason = fs.getReason() == null ? fs.getClass().getSimpleName() : fs.getReason();
            return fs.getFile() + (fs.getOtherFile() == null ? "" : " → " + fs.getOtherFile()) + ": " + reason.toLowerCase(java.util.Locale.ROOT);
        }
        String m = io.getMessage();
        return m == null ? io.toString() : m;
    }

    private static java.io.IOException io(Exception ex) {
        Throwable t = ex instanceof java.io.UncheckedIOException u ? u.getCause() : ex;
        return t instanceof java.io.IOException io ? io : null;
    }

    /**
     * A message as it may go to a terminal: control characters (an escape sequence in a file's
     * metadata, say) are shown as {@code \\uXXXX}, never sent raw.
     */
    static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(c -> {
            if (Character.isISOControl(c) && c != '\n' && c != '\t') b.append(String.format("\\u%04x", c));
            else b.appendCodePoint(c);
        });
        return b.toString();
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
