package dev.advinterp.experiments.io;

/** What the HTML pages (the dissection page, the study's report) need to put text into HTML. */
public final class Html {
    private Html() {
    }

    /** Text safe inside an element or a double-quoted attribute. */
    public static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
