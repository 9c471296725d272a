"""Synthetic long-context retrieval tasks (RULER-like), standard library only.

Each task renders one chat: the user message holds an instruction, a haystack with the needles
and the question; the assistant message is the answer. The Java evaluation harness
(engine/src/main/java/dev/tokenselect/engine/eval/Tasks.java) renders the same families the same
way with its own random numbers and held-out seeds; keep the two in step (word lists, sentences,
instructions, questions, answer formats).

Seed namespaces (a sample's generator is random.Random(seed)):
  training samples   seed < 2**60         (run seed << 32 | sample counter)
  held-out (log)     2**60 <= seed < 2**61
  evaluation (Java)  seed >= 2**62        (SplittableRandom, never used here)
"""
import random

TRAIN_SEED_LIMIT = 1 << 60
VALID_SEED_BASE = 1 << 60
EVAL_SEED_BASE = 1 << 62

# ChatML, the template written into tokenizer_config.json; render_chat() must produce the same text.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
BOS, EOS, PAD = "<|endoftext|>", "<|im_end|>", "<|endoftext|>"


def render_chat(messages, add_generation_prompt):
    out = "".join("<|im_start|>" + m["role"] + "\n" + m["content"] + "<|im_end|>\n" for m in messages)
    return out + ("<|im_start|>assistant\n" if add_generation_prompt else "")


# Keys of needles: never used by the prose, so a key occurs only in its needles and the question.
KEY_WORDS = (
    "apple banana cherry grape lemon mango melon olive peach pear plum walnut almond pepper ginger "
    "garlic onion carrot potato tomato falcon eagle hawk raven sparrow swan crane heron parrot "
    "tiger lion panther leopard jaguar wolf fox badger otter beaver rabbit squirrel hedgehog turtle "
    "lizard dolphin whale shark salmon trout lobster crab oyster anchor compass lantern ladder hammer "
    "chisel anvil kettle teapot candle mirror violin guitar piano trumpet drum flute harp cello "
    "saxophone marble granite copper silver bronze cobalt nickel zinc quartz amber ivory velvet cotton "
    "linen satin wool silk canvas rocket comet planet galaxy meteor nebula glacier volcano canyon "
    "desert island lagoon harbor castle tower bridge tunnel chapel palace temple museum library "
    "theater stadium market bakery pharmacy factory orchard vineyard meadow prairie jungle tundra "
    "blizzard thunder rainbow tornado monsoon cyclone sunrise sunset twilight midnight diamond emerald "
    "ruby sapphire topaz pearl opal jade crystal feather pillow blanket carpet curtain saddle helmet "
    "shield sword dagger trophy medal ribbon button zipper pocket wallet basket bucket barrel "
    "bottle jar spoon ladle skillet oven chimney window doorbell staircase balcony elevator magnet "
    "battery engine piston turbine propeller satellite telescope microscope camera radio pencil "
    "notebook envelope stamp postcard calendar umbrella scarf glove boot sandal slipper necklace "
    "bracelet crown tiara banner flag kite balloon puzzle domino chess"
).split()

# Prose vocabulary (disjoint from KEY_WORDS and free of digits and upper-case words).
NOUNS = (
    "man woman child farmer teacher doctor sailor soldier king queen friend stranger neighbor student "
    "writer painter baker merchant traveler village city road river forest mountain valley field garden "
    "house room door table letter book story song dream morning evening night winter summer spring "
    "autumn rain wind snow storm cloud stone tree flower bird horse dog cat boat ship wall street "
    "school church shop hill lake sea shore sky fire light shadow voice word idea question answer "
    "journey promise secret memory picture letterbox coat hat bag box key clock map rope wheel"
).split()
ADJECTIVES = (
    "old young small large quiet loud dark bright cold warm gentle strange happy sad tired busy empty "
    "full quick slow kind brave proud humble distant nearby ancient modern simple careful curious "
    "silent heavy light narrow wide green blue grey golden wooden broken hidden lonely patient"
).split()
VERBS_PAST = (
    "found saw watched followed remembered carried opened closed painted visited crossed built "
    "repaired described admired noticed studied left passed greeted answered forgot kept lost sold "
    "bought cleaned pushed pulled touched guarded"
).split()
VERBS_INTRANS = (
    "waited walked slept laughed rested listened worked smiled wandered travelled sang stayed "
    "returned arrived paused hesitated"
).split()
ADVERBS = (
    "slowly quickly quietly carefully happily sadly suddenly gently often rarely always never once "
    "again early late"
).split()
PREPOSITIONS = "near behind beside under above across along through beyond toward".split()
NAMES = (
    "anna ben clara david elena frank grace henry iris jack julia karl laura martin nora oscar paula "
    "quentin rosa simon tara victor wendy"
).split()  # lower case on purpose: the templates capitalize nothing but the first word

PROSE_TEMPLATES = [
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
    "Once the {noun} {vint}, the {adj} {noun2} {vpast} the {noun3} {adv}.",
]
TIMES = "morning evening night winter summer spring autumn day week".split()

NOISE_SENTENCES = [
    "The grass is green.",
    "The sky is blue.",
    "The sun is yellow.",
    "Here we go.",
    "There and back again.",
]

NEEDLE = "The special code for {key} is {value}."
VT_FIRST = "VAR {name} = {value}."
VT_NEXT = "VAR {name} = VAR {prev}."
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
HEX = "0123456789abcdef"

TASKS = [
    "niah_single_noise",
    "niah_single_prose",
    "niah_multikey",
    "niah_multivalue",
    "niah_multiquery",
    "vt",
    "cwe",
    "kv",
]

INSTRUCTION_NIAH = "Some special codes are hidden in the following text. Read it and remember them."
INSTRUCTION_VT = "Memorize and track the chain of variable assignments hidden in the following text."
INSTRUCTION_CWE = "Below is a list of words. Find the words that occur most often."
INSTRUCTION_KV = "Below is a JSON object of keys and values. Find the value of the requested key."


def prose_sentence(rng):
    t = rng.choice(PROSE_TEMPLATES)
    return t.format(
        adj=rng.choice(ADJECTIVES), adj2=rng.choice(ADJECTIVES), noun=rng.choice(NOUNS),
        noun2=rng.choice(NOUNS), noun3=rng.choice(NOUNS), vpast=rng.choice(VERBS_PAST),
        vint=rng.choice(VERBS_INTRANS), adv=rng.choice(ADVERBS), prep=rng.choice(PREPOSITIONS),
        time=rng.choice(TIMES))


def code6(rng):
    return "%06d" % rng.randrange(1_000_000)


def var_name(rng):
    return "".join(rng.choice(LETTERS) for _ in range(5))


def hex8(rng):
    return "".join(rng.choice(HEX) for _ in range(8))


def join_list(items):
    return ", ".join(items)


class Sample:
    def __init__(self, task, seed, user, answer, answers):
        self.task = task
        self.seed = seed
        self.user = user          # the user message: instruction, haystack with needles, question
        self.answer = answer      # the assistant message the model is trained to produce
        self.answers = answers    # strings that must all occur in a generated answer (exact match)

    def messages(self, with_answer):
        m = [{"role": "user", "content": self.user}]
        if with_answer:
            m.append({"role": "assistant", "content": self.answer})
        return m

    def expected_in_prompt(self):
        """Strings the prompt must contain: every expected answer string comes from the haystack."""
        return list(self.answers)

    def prompt_text(self):
        return render_chat(self.messages(False), True)


def _filler(task, rng):
    """An endless stream of haystack units for a task."""
    if task in ("niah_single_noise", "vt"):
        i = 0
        while True:
            yield NOISE_SENTENCES[i % len(NOISE_SENTENCES)]
            i += 1
    elif task == "cwe":
        raise AssertionError("cwe builds its own list")
    elif task == "kv":
        while True:
            yield '"%s": "%s"' % (hex8(rng), hex8(rng))
    else:
        while True:
            yield prose_sentence(rng)


def _needles(task, rng):
    """(needle units in order of appearance, question, answer, expected strings)."""
    keys = rng.sample(KEY_WORDS, 4)
    if task in ("niah_single_noise", "niah_single_prose"):
        v = code6(rng)
        return [NEEDLE.format(key=keys[0], value=v)], "What is the special code for %s?" % keys[0], v, [v]
    if task == "niah_multikey":
        vals = [code6(rng) for _ in keys]
        needles = [NEEDLE.format(key=k, value=v) for k, v in zip(keys, vals)]
        q = rng.randrange(4)
        return needles, "What is the special code for %s?" % keys[q], vals[q], [vals[q]]
    if task == "niah_multivalue":
        vals = [code6(rng) for _ in range(4)]
        needles = [NEEDLE.format(key=keys[0], value=v) for v in vals]
        return needles, "What are all the special codes for %s?" % keys[0], join_list(vals), vals
    if task == "niah_multiquery":
        vals = [code6(rng) for _ in keys]
        needles = [NEEDLE.format(key=k, value=v) for k, v in zip(keys, vals)]
        order = list(range(4))
        rng.shuffle(order)
        asked = [keys[i] for i in order]
        q = "What are the special codes for %s, %s, %s and %s?" % tuple(asked)
        ans = [vals[i] for i in order]
        return needles, q, join_list(ans), ans
    if task == "vt":
        names = []
        while len(names) < 4:
            n = var_name(rng)
            if n not in names:
                names.append(n)
        value = "%05d" % rng.randrange(100_000)
        needles = [VT_FIRST.format(name=names[0], value=value)]
        needles += [VT_NEXT.format(name=names[i], prev=names[i - 1]) for i in range(1, 4)]
        return needles, "Which variables are assigned the value %s?" % value, join_list(names), names
    raise ValueError("unknown task " + task)


def _user(task, context, question):
    instruction = {"vt": INSTRUCTION_VT, "cwe": INSTRUCTION_CWE, "kv": INSTRUCTION_KV}.get(task, INSTRUCTION_NIAH)
    return instruction + "\n\n" + context + "\n\n" + question


def _sep(task):
    return ", " if task in ("kv", "cwe") else " "


def _context(task, units):
    body = _sep(task).join(units)
    if task == "kv":
        return "{" + body + "}"
    if task == "cwe":
        return body + "."
    return body


def make_sample(task, seed, target_tokens, count_tokens):
    """A sample whose rendered prompt (with the generation prompt) has at most target_tokens tokens
    under count_tokens(text) -> int, and close to it (within max(16, 1%) when the units allow).

    The haystack is a list of units (sentences, JSON pairs or list words) joined by a separator;
    needles are inserted between units at uniformly random depths, in order.
    """
    rng = random.Random(seed)
    if task == "cwe":
        return _make_cwe(seed, rng, target_tokens, count_tokens)
    if task == "kv":
        key, value = hex8(rng), hex8(rng)
        needles = ['"%s": "%s"' % (key, value)]
        question = 'What is the value of the key "%s" in the JSON object above?' % key
        answer, expected, avoid = value, [value], [key, value]
    else:
        needles, question, answer, expected = _needles(task, rng)
        avoid = list(expected)
    stream = _filler(task, rng)

    def next_unit():
        while True:
            u = next(stream)
            if not any(a in u for a in avoid):
                return u

    def render(filler, positions):
        units = list(filler)
        for i, (p, n) in enumerate(zip(positions, needles)):  # positions ascending: needles keep their order
            units.insert(p + i, n)
        return render_chat([{"role": "user", "content": _user(task, _context(task, units), question)}], True)

    filler = fit_units(next_unit, _sep(task), target_tokens, count_tokens,
                       lambda f: render(f, [len(f)] * len(needles)))
    positions = sorted(rng.randint(0, len(filler)) for _ in needles)
    while True:
        text = render(filler, positions)
        if count_tokens(text) <= target_tokens or not filler:
            break
        filler.pop()
        positions = [min(p, len(filler)) for p in positions]
    user = text[len("<|im_start|>user\n"):-len("<|im_end|>\n<|im_start|>assistant\n")]
    return Sample(task, seed, user, answer, expected)


def fit_units(next_unit, sep, target, count_tokens, render_units):
    """Draws units until count_tokens(render_units(units)) is at most target and within max(16, 1%) of it.

    Unit costs are counted one by one (sep + unit) and corrected by the measured ratio of the whole
    rendering, so a tokenizer whose counts are not additive still converges."""
    fixed = count_tokens(render_units([]))
    tol = max(16, target // 100)
    filler, costs, est, scale, pending = [], [], 0, 1.0, None
    for _ in range(8):
        budget = (target - fixed) / scale
        while filler and est > budget:
            est -= costs.pop()
            filler.pop()
        while True:
            if pending is None:
                u = next_unit()
                pending = (u, count_tokens(sep + u))
            if est + pending[1] > budget:
                break
            filler.append(pending[0])
            costs.append(pending[1])
            est += pending[1]
            pending = None
        t = count_tokens(render_units(filler))
        if target - tol <= t <= target or (t > target and not filler):
            return filler
        if est > 0 and t > fixed:
            scale = max(0.25, (t - fixed) / est)
    while filler and count_tokens(render_units(filler)) > target:
        filler.pop()
    return filler


def _make_cwe(seed, rng, target_tokens, count_tokens):
    """Three common words make 10% of the list each; the other nouns cycle (each far rarer)."""
    words = rng.sample(NOUNS, len(NOUNS))
    common, rare = words[:3], words[3:]
    question = "What are the 3 most common words in the list above?"
    block, rare_order = [], []

    def next_unit():  # blocks of 10: the 3 common words and 7 rare ones, shuffled
        if not block:
            for _ in range(7):
                if not rare_order:
                    rare_order.extend(rng.sample(rare, len(rare)))
                block.append(rare_order.pop())
            block.extend(common)
            rng.shuffle(block)
        return block.pop()

    def render(items):
        return render_chat([{"role": "user", "content": _user("cwe", _context("cwe", items), question)}], True)

    items = fit_units(next_unit, ", ", target_tokens, count_tokens, render)
    order = []
    for w in items:
        if w in common and w not in order:
            order.append(w)
    return Sample("cwe", seed, _user("cwe", _context("cwe", items), question), join_list(order), order)


def approx_tokens(text):
    """Token count without a tokenizer (dry runs): about 4 characters a token."""
    return (len(text) + 3) // 4


def score(generated, expected):
    """Exact match: every expected string occurs in the generated text."""
    return all(e in generated for e in expected)


def corpus_for_tokenizer(n_samples, seed, length_chars=4000):
    """Text to train the BPE vocabulary on: samples of every task with their answers."""
    rng = random.Random(seed)
    out = []
    for i in range(n_samples):
        task = TASKS[i % len(TASKS)]
        s = make_sample(task, rng.randrange(TRAIN_SEED_LIMIT), length_chars // 4, approx_tokens)
        out.append(render_chat(s.messages(True), False))
    return out
