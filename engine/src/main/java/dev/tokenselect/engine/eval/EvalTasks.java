package dev.tokenselect.engine.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The synthetic long-context tasks of the evaluation, in the families and the rendering of the
 * training script ({@code tools/train/tasks.py}; keep the two in step): needles in a haystack of
 * noise sentences or generated prose, variable tracking, common-word extraction and key-value
 * retrieval. The random numbers are this class's own ({@link SplittableRandom}); the seeds are held
 * out from training ({@link EvalSeeds}).
 */
public final class EvalTasks {

    /** Every task, in the order of tasks.py's TASKS. */
    public static final List<String> TASKS = List.of("niah_single_noise", "niah_single_prose", "niah_multikey",
            "niah_multivalue", "niah_multiquery", "vt", "cwe", "kv");

    static final List<String> KEY_WORDS = words(
            "apple banana cherry grape lemon mango melon olive peach pear plum walnut almond pepper " +
            "ginger garlic onion carrot potato tomato falcon eagle hawk raven sparrow swan crane heron " +
            "parrot tiger lion panther leopard jaguar wolf fox badger otter beaver rabbit squirrel " +
            "hedgehog turtle lizard dolphin whale shark salmon trout lobster crab oyster anchor " +
            "compass lantern ladder hammer chisel anvil kettle teapot candle mirror violin guitar " +
            "piano trumpet drum flute harp cello saxophone marble granite copper silver bronze cobalt " +
            "nickel zinc quartz amber ivory velvet cotton linen satin wool silk canvas rocket comet " +
            "planet galaxy meteor nebula glacier volcano canyon desert island lagoon harbor castle " +
            "tower bridge tunnel chapel palace temple museum library theater stadium market bakery " +
            "pharmacy factory orchard vineyard meadow prairie jungle tundra blizzard thunder rainbow " +
            "tornado monsoon cyclone sunrise sunset twilight midnight diamond emerald ruby sapphire " +
            "topaz pearl opal jade crystal feather pillow blanket carpet curtain saddle helmet shield " +
            "sword dagger trophy medal ribbon button zipper pocket wallet basket bucket barrel bottle " +
            "jar spoon ladle skillet oven chimney window doorbell staircase balcony elevator magnet " +
            "battery engine piston turbine propeller satellite telescope microscope camera radio " +
            "pencil notebook envelope stamp postcard calendar umbrella scarf glove boot sandal slipper " +
            "necklace bracelet crown tiara banner flag kite balloon puzzle domino chess");

    static final List<String> NOUNS = words(
            "man woman child farmer teacher doctor sailor soldier king queen friend stranger neighbor " +
            "student writer painter baker merchant traveler village city road river forest mountain " +
            "valley field garden house room door table letter book story song dream morning evening " +
            "night winter summer spring autumn rain wind snow storm cloud stone tree flower bird horse " +
            "dog cat boat ship wall street school church shop hill lake sea shore sky fire light " +
            "shadow voice word idea question answer journey promise secret memory picture letterbox " +
            "coat hat bag box key clock map rope wheel");

    static final List<String> ADJECTIVES = words(
            "old young small large quiet loud dark bright cold warm gentle strange happy sad tired " +
            "busy empty full quick slow kind brave proud humble distant nearby ancient modern simple " +
            "careful curious silent heavy light narrow wide green blue grey golden wooden broken " +
            "hidden lonely patient");

    static final List<String> VERBS_PAST = words(
            "found saw watched followed remembered carried opened closed painted visited crossed built " +
            "repaired described admired noticed studied left passed greeted answered forgot kept lost " +
            "sold bought cleaned pushed pulled touched guarded");

    static final List<String> VERBS_INTRANS = words(
            "waited walked slept laughed rested listened worked smiled wandered travelled sang stayed " +
            "returned arrived paused hesitated");

    static final List<String> ADVERBS = words(
            "slowly quickly quietly carefully happily sadly suddenly gently often rarely always never " +
            "once again early late");

    static final List<String> PREPOSITIONS = words(
            "near behind beside under above across along through beyond toward");

    static final List<String> TIMES = words(
            "morning evening night winter summer spring autumn day week");

    static final List<String> PROSE_TEMPLATES = List.of(
            "The {adj} {noun} {vpast} the {noun2} {prep} the {noun3}.",
            "A {adj} {noun} {vint} {adv} {prep} the {adj2} {noun2}.",
            "Every {noun} in the {noun2} {vint} {adv}.",
            "In the {adj} {noun}, the {noun2} {vpast} a {adj2} {noun3}.",
            "It was a {adj} {noun}, and the {noun2} {vint} {prep} the {noun3}.",
            "Nobody {vpast} the {adj} {noun} {prep} the {noun2}.",
            "The {noun} {vint} while the {adj} {noun2} {vpast} the {noun3}.",
            "Later that {time}, the {noun} {vpast} the {adj} {noun2} {adv}.",
            "She {vpast} the {noun} and {vint} {prep} the {adj} {noun2}.",
            "He {vint} {adv}, for the {noun} was {adj} and the {noun2} was {adj2}.",
            "They {vpast} a {adj} {noun} {prep} the {noun2} and {vint}.",
            "Once the {noun} {vint}, the {adj} {noun2} {vpast} the {noun3} {adv}.");

    static final List<String> NOISE_SENTENCES = List.of("The grass is green.", "The sky is blue.", "The sun is yellow.", "Here we go.", "There and back again.");

    static final String INSTRUCTION_NIAH = "Some special codes are hidden in the following text. Read it and remember them.";
    static final String INSTRUCTION_VT = "Memorize and track the chain of variable assignments hidden in the following text.";
    static final String INSTRUCTION_CWE = "Below is a list of words. Find the words that occur most often.";
    static final String INSTRUCTION_KV = "Below is a JSON object of keys and values. Find the value of the requested key.";
    static final String LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    static final String HEX = "0123456789abcdef";

    private EvalTasks() {
    }

    private static List<String> words(String s) {
        return List.of(s.trim().split(" "));
    }

    /** Counts tokens: of a whole prompt built around a user message, and of a piece of text. */
    public interface TokenCounter {

        /** Tokens of the prompt (chat template with the generation prompt) whose user message is this. */
        int prompt(String userMessage);

        /** Tokens of a piece of text (a haystack unit with its separator). */
        int text(String text);

        /** About four characters a token, for tests that need no tokenizer; not additive, like a real one. */
        static TokenCounter approx() {
            return new TokenCounter() {
                @Override
                public int prompt(String userMessage) {
                    return text("<|im_start|>user\n" + userMessage + "<|im_end|>\n<|im_start|>assistant\n");
                }

                @Override
                public int text(String text) {
                    return (text.length() + 3) / 4;
                }
            };
        }
    }

    /**
     * A sample of a task whose prompt has at most {@code targetTokens} tokens and, where the units
     * allow, lies within {@code max(16, 1%)} of it.
     */
    public static EvalSample generate(String task, long seed, int targetTokens, TokenCounter counter) {
        SplittableRandom rng = new SplittableRandom(seed);
        if (task.equals("cwe")) {
            return commonWords(seed, rng, targetTokens, counter);
        }
        List<String> needles;
        String question;
        String answer;
        List<String> expected;
        List<String> avoid;
        if (task.equals("kv")) {
            String key = hex8(rng);
            String value = hex8(rng);
            needles = List.of(pair(key, value));
            question = "What is the value of the key \"" + key + "\" in the JSON object above?";
            answer = value;
            expected = List.of(value);
            avoid = List.of(key, value);
        } else {
            Needles n = needles(task, rng);
            needles = n.needles;
            question = n.question;
            answer = n.answer;
            expected = n.expected;
            avoid = expected;
        }
        Supplier<String> stream = filler(task, rng);
        Supplier<String> next = () -> {
            while (true) {
                String u = stream.get();
                if (avoid.stream().noneMatch(u::contains)) {
                    return u;
                }
            }
        };
        String sep = separator(task);
        Function<List<String>, String> atEnd = f -> user(task, insert(f, needles, endPositions(f, needles)), question);
        List<String> filler = fitUnits(next, sep, targetTokens, counter, atEnd);
        int[] positions = new int[needles.size()];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = rng.nextInt(filler.size() + 1);
        }
        Arrays.sort(positions);
        String user;
        while (true) {
            user = user(task, insert(filler, needles, positions), question);
            if (counter.prompt(user) <= targetTokens || filler.isEmpty()) {
                break;
            }
            filler.removeLast();
            for (int i = 0; i < positions.length; i++) {
                positions[i] = Math.min(positions[i], filler.size());
            }
        }
        return new EvalSample(task, seed, user, answer, expected);
    }

    /**
     * The 6-digit codes of every needle in a needle task's haystack (the asked-for ones and the others,
     * in the haystack's order of generation), from the sample's seed alone: the needles are drawn before
     * the haystack, so they are the same at every length. Empty for the tasks without codes (vt, cwe, kv).
     */
    public static List<String> needleCodes(String task, long seed) {
        if (!task.startsWith("niah_")) {
            return List.of();
        }
        List<String> codes = new ArrayList<>();
        for (String n : needles(task, new SplittableRandom(seed)).needles) {
            codes.add(n.substring(n.length() - 7, n.length() - 1)); // "... is DDDDDD."
        }
        return codes;
    }

    /**
     * The sentences of every needle in a needle task's haystack, in the order of {@link #needleCodes};
     * empty for the tasks without needles.
     */
    public static List<String> needleSentences(String task, long seed) {
        if (!task.startsWith("niah_")) {
            return List.of();
        }
        return List.copyOf(needles(task, new SplittableRandom(seed)).needles);
    }

    private static int[] endPositions(List<String> filler, List<String> needles) {
        int[] p = new int[needles.size()];
        Arrays.fill(p, filler.size());
        return p;
    }

    /** The haystack units with the needles inserted at ascending positions, in their order. */
    private static List<String> insert(List<String> filler, List<String> needles, int[] positions) {
        List<String> units = new ArrayList<>(filler);
        for (int i = 0; i < needles.size(); i++) {
            units.add(positions[i] + i, needles.get(i));
        }
        return units;
    }

    /**
     * Draws units until the whole prompt's tokens are at most the target and within max(16, 1%) of it:
     * units are counted one by one with their separator and corrected by the measured ratio of the
     * whole rendering, so tokenizers whose counts are not additive converge too.
     */
    static List<String> fitUnits(Supplier<String> next, String sep, int target, TokenCounter counter,
                                 Function<List<String>, String> userOf) {
        int fixed = counter.prompt(userOf.apply(List.of()));
        int tol = Math.max(16, target / 100);
        List<String> filler = new ArrayList<>();
        List<Integer> costs = new ArrayList<>();
        long est = 0;
        double scale = 1.0;
        String pending = null;
        int pendingCost = 0;
        for (int iter = 0; iter < 8; iter++) {
            double budget = (target - fixed) / scale;
            while (!filler.isEmpty() && est > budget) {
                est -= costs.removeLast();
                filler.removeLast();
            }
            while (true) {
                if (pending == null) {
                    pending = next.get();
                    pendingCost = counter.text(sep + pending);
                }
                if (est + pendingCost > budget) {
                    break;
                }
                filler.add(pending);
                costs.add(pendingCost);
                est += pendingCost;
                pending = null;
            }
            int t = counter.prompt(userOf.apply(filler));
            if ((t >= target - tol && t <= target) || (t > target && filler.isEmpty())) {
                return filler;
            }
            if (est > 0 && t > fixed) {
                scale = Math.max(0.25, (double) (t - fixed) / est);
            }
        }
        while (!filler.isEmpty() && counter.prompt(userOf.apply(filler)) > target) {
            filler.removeLast();
        }
        return filler;
    }

    private record Needles(List<String> needles, String question, String answer, List<String> expected) {
    }

    private static Needles needles(String task, SplittableRandom rng) {
        List<String> keys = sample(KEY_WORDS, 4, rng);
        switch (task) {
            case "niah_single_noise", "niah_single_prose" -> {
                String v = code6(rng);
                return new Needles(List.of(needle(keys.get(0), v)), "What is the special code for " + keys.get(0) + "?",
                        v, List.of(v));
            }
            case "niah_multikey" -> {
                List<String> vals = new ArrayList<>();
                List<String> needles = new ArrayList<>();
                for (String k : keys) {
                    String v = code6(rng);
                    vals.add(v);
                    needles.add(needle(k, v));
                }
                int q = rng.nextInt(4);
                return new Needles(needles, "What is the special code for " + keys.get(q) + "?", vals.get(q),
                        List.of(vals.get(q)));
            }
            case "niah_multivalue" -> {
                List<String> vals = new ArrayList<>();
                List<String> needles = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    String v = code6(rng);
                    vals.add(v);
                    needles.add(needle(keys.get(0), v));
                }
                return new Needles(needles, "What are all the special codes for " + keys.get(0) + "?",
                        String.join(", ", vals), vals);
            }
            case "niah_multiquery" -> {
                List<String> vals = new ArrayList<>();
                List<String> needles = new ArrayList<>();
                for (String k : keys) {
                    String v = code6(rng);
                    vals.add(v);
                    needles.add(needle(k, v));
                }
                List<Integer> order = new ArrayList<>(List.of(0, 1, 2, 3));
                shuffle(order, rng);
                List<String> ans = new ArrayList<>();
                for (int i : order) {
                    ans.add(vals.get(i));
                }
                String q = "What are the special codes for " + keys.get(order.get(0)) + ", " + keys.get(order.get(1))
                        + ", " + keys.get(order.get(2)) + " and " + keys.get(order.get(3)) + "?";
                return new Needles(needles, q, String.join(", ", ans), ans);
            }
            case "vt" -> {
                List<String> names = new ArrayList<>();
                while (names.size() < 4) {
                    StringBuilder n = new StringBuilder();
                    for (int i = 0; i < 5; i++) {
                        n.append(LETTERS.charAt(rng.nextInt(LETTERS.length())));
                    }
                    if (!names.contains(n.toString())) {
                        names.add(n.toString());
                    }
                }
                String value = String.format("%05d", rng.nextInt(100_000));
                List<String> needles = new ArrayList<>();
                needles.add("VAR " + names.get(0) + " = " + value + ".");
                for (int i = 1; i < 4; i++) {
                    needles.add("VAR " + names.get(i) + " = VAR " + names.get(i - 1) + ".");
                }
                return new Needles(needles, "Which variables are assigned the value " + value + "?",
                        String.join(", ", names), names);
            }
            default -> throw new IllegalArgumentException("unknown task '" + task + "': use one of " + TASKS);
        }
    }

    private static EvalSample commonWords(long seed, SplittableRandom rng, int targetTokens, TokenCounter counter) {
        List<String> words = sample(NOUNS, NOUNS.size(), rng);
        List<String> common = words.subList(0, 3);
        List<String> rare = words.subList(3, words.size());
        String question = "What are the 3 most common words in the list above?";
        List<String> block = new ArrayList<>();
        List<String> rareOrder = new ArrayList<>();
        Supplier<String> next = () -> { // blocks of 10: the 3 common words and 7 rare ones, shuffled
            if (block.isEmpty()) {
                for (int i = 0; i < 7; i++) {
                    if (rareOrder.isEmpty()) {
                        rareOrder.addAll(sample(rare, rare.size(), rng));
                    }
                    block.add(rareOrder.removeLast());
                }
                block.addAll(common);
                shuffle(block, rng);
            }
            return block.removeLast();
        };
        List<String> items = fitUnits(next, ", ", targetTokens, counter, f -> user("cwe", f, question));
        List<String> order = new ArrayList<>();
        for (String w : items) {
            if (common.contains(w) && !order.contains(w)) {
                order.add(w);
            }
        }
        return new EvalSample("cwe", seed, user("cwe", items, question), String.join(", ", order), order);
    }

    static String user(String task, List<String> units, String question) {
        String instruction = switch (task) {
            case "vt" -> INSTRUCTION_VT;
            case "cwe" -> INSTRUCTION_CWE;
            case "kv" -> INSTRUCTION_KV;
            default -> INSTRUCTION_NIAH;
        };
        String body = String.join(separator(task), units);
        String context = switch (task) {
            case "kv" -> "{" + body + "}";
            case "cwe" -> body + ".";
            default -> body;
        };
        return instruction + "\n\n" + context + "\n\n" + question;
    }

    static String separator(String task) {
        return task.equals("kv") || task.equals("cwe") ? ", " : " ";
    }

    private static Supplier<String> filler(String task, SplittableRandom rng) {
        return switch (task) {
            case "niah_single_noise", "vt" -> new Supplier<>() {
                private int i;

                @Override
                public String get() {
                    return NOISE_SENTENCES.get(i++ % NOISE_SENTENCES.size());
                }
            };
            case "kv" -> () -> pair(hex8(rng), hex8(rng));
            default -> () -> proseSentence(rng);
        };
    }

    static String proseSentence(SplittableRandom rng) {
        String t = pick(PROSE_TEMPLATES, rng);
        // Draw every slot, in tasks.py's order, whether the template uses it or not.
        String adj = pick(ADJECTIVES, rng), adj2 = pick(ADJECTIVES, rng), noun = pick(NOUNS, rng),
                noun2 = pick(NOUNS, rng), noun3 = pick(NOUNS, rng), vpast = pick(VERBS_PAST, rng),
                vint = pick(VERBS_INTRANS, rng), adv = pick(ADVERBS, rng), prep = pick(PREPOSITIONS, rng),
                time = pick(TIMES, rng);
        return t.replace("{adj}", adj).replace("{adj2}", adj2).replace("{noun}", noun).replace("{noun2}", noun2)
                .replace("{noun3}", noun3).replace("{vpast}", vpast).replace("{vint}", vint).replace("{adv}", adv)
                .replace("{prep}", prep).replace("{time}", time);
    }

    static String needle(String key, String value) {
        return "The special code for " + key + " is " + value + ".";
    }

    private static String pair(String key, String value) {
        return "\"" + key + "\": \"" + value + "\"";
    }

    private static String code6(SplittableRandom rng) {
        return String.format("%06d", rng.nextInt(1_000_000));
    }

    private static String hex8(SplittableRandom rng) {
        StringBuilder b = new StringBuilder(8);
        for (int i = 0; i < 8; i++) {
            b.append(HEX.charAt(rng.nextInt(16)));
        }
        return b.toString();
    }

    private static String pick(List<String> list, SplittableRandom rng) {
        return list.get(rng.nextInt(list.size()));
    }

    /** n distinct elements in random order. */
    private static List<String> sample(List<String> list, int n, SplittableRandom rng) {
        List<String> copy = new ArrayList<>(list);
        shuffle(copy, rng);
        return new ArrayList<>(copy.subList(0, n));
    }

    private static <T> void shuffle(List<T> list, SplittableRandom rng) {
        for (int i = list.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            T tmp = list.get(i);
            list.set(i, list.get(j));
            list.set(j, tmp);
        }
    }
}
