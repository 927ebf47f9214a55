"""Hindi and English stop words for the BM25 analyzer (:func:`index.analysis.analyze`).

Why stop words at all: BM25's IDF already damps frequent words, but in a question such as
"पोलिश में सैक्सन गार्डन क्या है?" the postpositions and copulas ("में", "क्या", "है") still add
a small score to almost every Hindi chunk, and with short questions that noise is a sizeable part
of the total. Dropping them lets the few content words decide.

What is deliberately *not* here: numbers ("दो" is also "give", "2023" is a fact), words that double
as names or acronyms after case-folding ("us" would eat "US"), and content-bearing adverbs of
time ("पहले", "आज") that questions do ask about.

The lists are folded with :func:`index.text.word_tokens` at import, so they are in exactly the form
the analyzer produces (NFC, case-folded; a nukta letter typed precomposed or decomposed matches).
"""

from __future__ import annotations

from index.text import word_tokens

# Postpositions, pronouns and their oblique/possessive forms, copulas and auxiliaries (with gender
# and number inflections), light verbs of reported speech, conjunctions, particles and question
# words. Variant spellings (गई/गयी, कहाँ/कहां, लिए/लिये) are both listed: news text uses both.
_HINDI = """
का के की को में से पर ने तक ओर साथ लिए लिये द्वारा बाद बीच
है हैं था थे थी थीं हूँ हूं हो होता होती होते होना होने होगा होगी होंगे हुआ हुई हुए हुईं
रहा रही रहे रहीं गया गई गयी गए गये गईं जा जाता जाती जाते जाना जाने जाए जाएगा जाएगी जाएंगे
कर करके करना करने करता करती करते किया किए किये करें करेंगे सकता सकती सकते सके सकें
दिया दिए दिये लिया कहा कहना कहते कहती बताया चाहिए
यह वह ये वे वो इस उस इन उन इसे उसे इन्हें उन्हें इसका उसका इसकी उसकी इसके उसके इनका उनका
इनकी उनकी इनके उनके इसमें उसमें इनमें उनमें इससे उससे इनसे उनसे इसपर उसपर इन्होंने उन्होंने
मैं मुझे मेरा मेरी मेरे हम हमें हमारा हमारी हमारे आप आपका आपकी आपके तुम अपना अपनी अपने
जो जिस जिसे जिसका जिसकी जिसके जिन जिन्हें जिन्होंने जिनके जिनकी कोई कुछ किसी किन सब सभी
और एवं तथा व या अथवा लेकिन परंतु किंतु मगर कि क्योंकि इसलिए अगर यदि तो भी ही न ना नहीं
एक क्या कौन कब कहाँ कहां क्यों कैसे कैसा कैसी कितना कितनी कितने किस किसे किसने किसका किसकी
किसके किसको कभी तरह
जब तब अब यहाँ यहां वहाँ वहां फिर जैसे जैसा जैसी ऐसे ऐसा ऐसी वाला वाले वाली बहुत कई अन्य
अनुसार मुताबिक
"""

# A standard English list (the usual NLTK/Snowball core), minus "us" ("US" folds to it).
_ENGLISH = """
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other ought our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves also whose yet upon
shall might must within without via per among across along around onto toward towards
s t d ll m o re ve y don doesn didn isn wasn weren aren hasn haven hadn won wouldn shouldn couldn
"""


def _fold_words(words: str) -> frozenset[str]:
    return frozenset(token for word in words.split() for token in word_tokens(word))


HINDI_STOPWORDS: frozenset[str] = _fold_words(_HINDI)
ENGLISH_STOPWORDS: frozenset[str] = _fold_words(_ENGLISH)
STOPWORDS: frozenset[str] = HINDI_STOPWORDS | ENGLISH_STOPWORDS
