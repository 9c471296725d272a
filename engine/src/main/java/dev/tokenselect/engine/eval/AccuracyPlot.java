package dev.tokenselect.engine.eval;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import javax.imageio.ImageIO;

/**
 * Accuracy against context length, one line per policy (log-scaled length axis), drawn with
 * java.awt in headless mode; no plotting library.
 */
public final class AccuracyPlot {

    public static final int WIDTH = 960;
    public static final int HEIGHT = 600;

    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
        new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
        new Color(0xbcbd22), new Color(0x17becf),
    };

    private AccuracyPlot() {
    }

    /** A plot of exact-match accuracy. */
    public static BufferedImage draw(String title, Map<String, Map<Integer, Double>> series, int trainedLength) {
        return draw(title, Score.EXACT, series, trainedLength);
    }

    /**
     * @param score         what the values are (named on the y axis)
     * @param series        policy → (length → mean score in [0, 1], NaN for none)
     * @param trainedLength a dashed vertical line at the model's training length, or 0 for none
     */
    public static BufferedImage draw(String title, Score score, Map<String, Map<Integer, Double>> series,
                                     int trainedLength) {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            int left = 80, right = WIDTH - 220, top = 60, bottom = HEIGHT - 70;
            TreeSet<Integer> lengths = new TreeSet<>();
            series.values().forEach(m -> lengths.addAll(m.keySet()));
            if (trainedLength > 0) {
                lengths.add(trainedLength);
            }
            double lo = lengths.isEmpty() ? 10 : log2(lengths.first());
            double hi = lengths.isEmpty() ? 16 : log2(lengths.last());
            if (hi - lo < 1e-9) {
                lo -= 0.5;
                hi += 0.5;
            }
            final double x0 = lo, x1 = hi;
            java.util.function.DoubleUnaryOperator px = len -> left + (log2(len) - x0) / (x1 - x0) * (right - left);
            java.util.function.DoubleUnaryOperator py = acc -> bottom - acc * (bottom - top);

            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            FontMetrics fm = g.getFontMetrics();
            // Grid and axes.
            g.setStroke(new BasicStroke(1f));
            for (int i = 0; i <= 10; i++) {
                double a = i / 10.0;
                int y = (int) Math.round(py.applyAsDouble(a));
                g.setColor(new Color(0xe6e6e6));
                g.drawLine(left, y, right, y);
                g.setColor(Color.DARK_GRAY);
                String s = String.format(java.util.Locale.ROOT, "%.1f", a);
                g.drawString(s, left - 8 - fm.stringWidth(s), y + fm.getAscent() / 2 - 1);
            }
            for (int len : lengths) {
                int x = (int) Math.round(px.applyAsDouble(len));
                g.setColor(new Color(0xe6e6e6));
                g.drawLine(x, top, x, bottom);
                g.setColor(Color.DARK_GRAY);
                String s = EvalReport.lengthLabel(len);
                g.drawString(s, x - fm.stringWidth(s) / 2, bottom + 18);
            }
            g.setColor(Color.BLACK);
            g.drawRect(left, top, right - left, bottom - top);
            String xl = "context length (tokens, log scale)";
            g.drawString(xl, (left + right - fm.stringWidth(xl)) / 2, bottom + 42);
            var saved = g.getTransform();
            g.rotate(-Math.PI / 2);
            g.drawString(score.axis(), -(top + bottom + fm.stringWidth(score.axis())) / 2, 28);
            g.setTransform(saved);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
            g.drawString(title, left, 34);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));

            if (trainedLength > 0) {
                int x = (int) Math.round(px.applyAsDouble(trainedLength));
                g.setColor(Color.GRAY);
                g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 5f}, 0f));
                g.drawLine(x, top, x, bottom);
                g.drawString("trained length", x + 4, top + 14);
            }
            // Series.
            int i = 0;
            int legendY = top + 10;
            for (var e : series.entrySet()) {
                Color c = PALETTE[i % PALETTE.length];
                boolean dashed = i >= PALETTE.length;
                g.setColor(c);
                g.setStroke(dashed
                        ? new BasicStroke(2.2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 10f, new float[] {8f, 5f}, 0f)
                        : new BasicStroke(2.2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
                List<int[]> points = new ArrayList<>();
                for (var p : new java.util.TreeMap<>(e.getValue()).entrySet()) {
                    if (!p.getValue().isNaN()) {
                        points.add(new int[] {(int) Math.round(px.applyAsDouble(p.getKey())),
                            (int) Math.round(py.applyAsDouble(p.getValue()))});
                    }
                }
                for (int k = 1; k < points.size(); k++) {
                    g.drawLine(points.get(k - 1)[0], points.get(k - 1)[1], points.get(k)[0], points.get(k)[1]);
                }
                for (int[] p : points) {
                    g.fillOval(p[0] - 4, p[1] - 4, 9, 9);
                }
                g.drawLine(right + 20, legendY, right + 50, legendY);
                g.fillOval(right + 31, legendY - 4, 9, 9);
                g.setColor(Color.BLACK);
                g.drawString(e.getKey(), right + 58, legendY + fm.getAscent() / 2 - 1);
                legendY += 22;
                i++;
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    public static void write(Path file, String title, Map<String, Map<Integer, Double>> series, int trainedLength)
            throws IOException {
        write(file, title, Score.EXACT, series, trainedLength);
    }

    public static void write(Path file, String title, Score score, Map<String, Map<Integer, Double>> series,
                             int trainedLength) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        if (!ImageIO.write(draw(title, score, series, trainedLength), "png", file.toFile())) {
            throw new IOException("no PNG writer available");
        }
    }

    private static double log2(double v) {
        return Math.log(v) / Math.log(2);
    }
}
