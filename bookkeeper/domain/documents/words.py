"""Amounts in words, as invoices and acts spell the total: Russian (with the genders and the
three plural forms) and English. The minor part stays in digits, as documents write it:
"Одна тысяча двести рублей 50 копеек", "One thousand two hundred US dollars and 50 cents"."""

from __future__ import annotations

_RU_ONES = {"m": ["", "один", "два"], "f": ["", "одна", "две"]}
_RU_UNITS = ["", "", "", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"]
_RU_TEENS = [
    "десять",
    "одиннадцать",
    "двенадцать",
    "тринадцать",
    "четырнадцать",
    "пятнадцать",
    "шестнадцать",
    "семнадцать",
    "восемнадцать",
    "девятнадцать",
]
_RU_TENS = ["", "", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят", "восемьдесят", "девяносто"]
_RU_HUNDREDS = ["", "сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот", "восемьсот", "девятьсот"]
# (forms for 1, 2-4, 5+; gender) of each power of a thousand
_RU_SCALES = [
    (("", "", ""), "m"),
    (("тысяча", "тысячи", "тысяч"), "f"),
    (("миллион", "миллиона", "миллионов"), "m"),
    (("миллиард", "миллиарда", "миллиардов"), "m"),
    (("триллион", "триллиона", "триллионов"), "m"),
]
# currency: (major forms, major gender, minor forms)
_RU_CURRENCIES = {
    "RUB": (("рубль", "рубля", "рублей"), "m", ("копейка", "копейки", "копеек")),
    "USD": (("доллар США", "доллара США", "долларов США"), "m", ("цент", "цента", "центов")),
    "EUR": (("евро", "евро", "евро"), "m", ("цент", "цента", "центов")),
}

_EN_SMALL = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_EN_SCALES = ["", "thousand", "million", "billion", "trillion"]
_EN_CURRENCIES = {
    "RUB": ("Russian rouble", "Russian roubles", "kopeck", "kopecks"),
    "USD": ("US dollar", "US dollars", "cent", "cents"),
    "EUR": ("euro", "euros", "cent", "cents"),
    "GBP": ("pound sterling", "pounds sterling", "penny", "pence"),
}
MAX_WHOLE = 10**15 - 1


def plural_ru(number: int, forms: tuple[str, str, str]) -> str:
    """The Russian form for a count: 1, 21 → рубль; 2-4, 22 → рубля; 0, 5-20, 25 → рублей."""
    tail = number % 100
    if 11 <= tail <= 14:
        return forms[2]
    return forms[0] if tail % 10 == 1 else forms[1] if 2 <= tail % 10 <= 4 else forms[2]


def _ru_triple(number: int, gender: str) -> list[str]:
    hundreds, rest = divmod(number, 100)
    words = [_RU_HUNDREDS[hundreds]]
    if 10 <= rest <= 19:
        words.append(_RU_TEENS[rest - 10])
    else:
        tens, ones = divmod(rest, 10)
        words.append(_RU_TENS[tens])
        words.append(_RU_ONES[gender][ones] if ones <= 2 else _RU_UNITS[ones])
    return [word for word in words if word]


def number_ru(number: int, gender: str = "m") -> str:
    _check(number)
    if number == 0:
        return "ноль"
    words: list[str] = []
    for power in range(len(_RU_SCALES) - 1, -1, -1):
        triple = number // 1000**power % 1000
        if triple == 0:
            continue
        forms, scale_gender = _RU_SCALES[power]
        words += _ru_triple(triple, gender if power == 0 else scale_gender)
        if power:
            words.append(plural_ru(triple, forms))
    return " ".join(words)


def number_en(number: int) -> str:
    _check(number)
    if number == 0:
        return "zero"
    words: list[str] = []
    for power in range(len(_EN_SCALES) - 1, -1, -1):
        triple = number // 1000**power % 1000
        if triple == 0:
            continue
        hundreds, rest = divmod(triple, 100)
        if hundreds:
            words += [_EN_SMALL[hundreds], "hundred"]
        if rest:
            words.append(
                _EN_SMALL[rest]
                if rest < 20
                else _EN_TENS[rest // 10] + ("-" + _EN_SMALL[rest % 10] if rest % 10 else "")
            )
        if power:
            words.append(_EN_SCALES[power])
    return " ".join(words)


_DE_UNITS = ["", "ein", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"]
_DE_TEENS = ["zehn", "elf", "zwölf", "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn"]
_DE_TENS = ["", "", "zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig"]
# Above a thousand the scales are nouns, written apart and declined: eine Million, zwei Millionen.
_DE_SCALES = [
    ("", ""),
    ("tausend", "tausend"),
    ("Million", "Millionen"),
    ("Milliarde", "Milliarden"),
    ("Billion", "Billionen"),
]
_DE_CURRENCIES = {"EUR": ("Euro", "Cent"), "USD": ("US-Dollar", "Cent"), "RUB": ("Rubel", "Kopeken")}


def _de_triple(number: int) -> str:
    """1-999 as one word, its 1 as "ein" (ein Euro, einhundertein Euro, einundzwanzig Euro)."""
    hundreds, rest = divmod(number, 100)
    word = f"{_DE_UNITS[hundreds]}hundert" if hundreds else ""
    if 10 <= rest < 20:
        return word + _DE_TEENS[rest - 10]
    tens, units = divmod(rest, 10)
    if tens:
        return word + (f"{_DE_UNITS[units]}und" if units else "") + _DE_TENS[tens]
    return word + _DE_UNITS[units]


def number_de(number: int) -> str:
    _check(number)
    if number == 0:
        return "null"
    words: list[str] = []
    for power in range(len(_DE_SCALES) - 1, 1, -1):  # the nouns: "eine Million", "zwei Millionen"
        triple = number // 1000**power % 1000
        if triple:
            one, many = _DE_SCALES[power]
            words += ["eine", one] if triple == 1 else [_de_triple(triple), many]
    thousands, rest = divmod(number % 1_000_000, 1000)
    below_a_million = (f"{_de_triple(thousands)}tausend" if thousands else "") + (_de_triple(rest) if rest else "")
    return " ".join(words + ([below_a_million] if below_a_million else []))


def amount_in_words(minor_units: int, currency: str, language: str, minor_digits: int = 2) -> str:
    """A non-negative amount in the currency's minor units, spelled for a document."""
    _check(minor_units)
    major, minor = divmod(minor_units, 10**minor_digits)
    minor_text = f"{minor:0{minor_digits}d}" if minor_digits else ""
    if language == "de":
        major_name, minor_name = _DE_CURRENCIES.get(currency, (currency, ""))
        text = f"{number_de(major)} {major_name}"
        if minor_digits:
            text += f" und {minor_text} {minor_name}".rstrip() if minor_name else f" {minor_text}/{10**minor_digits}"
    elif language == "ru":
        major_forms, gender, minor_forms = _RU_CURRENCIES.get(currency, ((currency,) * 3, "m", ("",) * 3))
        text = f"{number_ru(major, gender)} {plural_ru(major, major_forms)}"
        if minor_digits:
            text += f" {minor_text} {plural_ru(minor, minor_forms)}".rstrip()
    else:
        one, many, minor_one, minor_many = _EN_CURRENCIES.get(currency, (currency, currency, "", ""))
        text = f"{number_en(major)} {one if major == 1 else many}"
        if minor_digits and minor_one:
            text += f" and {minor_text} {minor_one if minor == 1 else minor_many}"
        elif minor_digits:
            text += f" {minor_text}/{10**minor_digits}"
    return text[0].upper() + text[1:]


def _check(number: int) -> None:
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= MAX_WHOLE * 100:
        raise ValueError(f"{number!r} cannot be spelled: a whole number from 0 is needed")
