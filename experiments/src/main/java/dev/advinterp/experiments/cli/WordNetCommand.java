package dev.advinterp.experiments.cli;

import dev.advinterp.experiments.wordnet.WordNetGraph;
import dev.advinterp.experiments.wordnet.WordNetPairs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code advinterp wordnet}: shortest hypernym-path distances between WordNet 3.0 noun synsets. */
@Command(name = "wordnet", mixinStandardHelpOptions = true,
        description = {"Shortest-path distances between WordNet 3.0 noun synsets through hypernym and instance-hypernym",
                "edges, the class distance of the consistency metric. Synsets are named as ImageNet names its classes:",
                "n and the 8-digit noun offset (n02123045 is tabby, tabby cat)."},
        subcommands = {WordNetCommand.Distance.class, WordNetCommand.Pairs.class})
final class WordNetCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "distance", mixinStandardHelpOptions = true, description = "Prints the distance between two synsets, with their lemmas.")
    static final class Distance implements Runnable {
        @Parameters(index = "0", paramLabel = "WNID")
        String a;

        @Parameters(index = "1", paramLabel = "WNID")
        String b;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            try (WordNetGraph g = WordNetGraph.open()) {
                int d = g.distance(a, b);
                PrintWriter out = spec.commandLine().getOut();
                out.printf("%s (%s)\t%s (%s)\t%d%n", a, String.join(", ", g.lemmas(a)), b, String.join(", ", g.lemmas(b)), d);
                out.flush();
            }
        }
    }

    @Command(name = "pairs", mixinStandardHelpOptions = true,
            description = {"Reads lines 'wnid<TAB>wnid' from FILE ('-': standard input) and prints 'wnid<TAB>wnid<TAB>distance'",
                    "for each, in the same order. Blank lines and lines starting with # are skipped."})
    static final class Pairs implements java.util.concurrent.Callable<Integer> {
        @Parameters(index = "0", paramLabel = "FILE")
        String file;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            boolean stdin = file.equals("-");
            if (!stdin && !Files.isRegularFile(Path.of(file))) {
                throw new IllegalArgumentException(file + ": no such file (give a file of 'wnid<TAB>wnid' lines, or - for standard input)");
            }
            try (WordNetGraph g = WordNetGraph.open();
                 BufferedReader in = stdin ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
                         : Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
                WordNetPairs.run(g, in, stdin ? "standard input" : file, spec.commandLine().getOut());
            }
            return 0;
        }
    }
}
