"""Informal forms of common British given names, grouped so "Bill" and "William" compare as the same name.

A name may sit in several groups (Chris: Christopher, Christine); it then takes the first group listed, which is
good enough for one comparison level that only ever adds evidence.
"""

from __future__ import annotations

NAME_GROUPS: tuple[tuple[str, ...], ...] = (
    ("william", "bill", "will", "billy", "willie", "liam"), ("robert", "bob", "rob", "bobby", "robbie", "bert"),
    ("richard", "rich", "rick", "ricky", "dick", "richie"), ("james", "jim", "jimmy", "jamie", "jimmie"),
    ("john", "jack", "johnny", "jonny"), ("thomas", "tom", "tommy"), ("michael", "mike", "mick", "mickey"),
    ("christopher", "chris", "kit"), ("daniel", "dan", "danny"), ("matthew", "matt", "matty"),
    ("andrew", "andy", "drew"), ("anthony", "tony", "ant"), ("benjamin", "ben", "benny"),
    ("samuel", "sam", "sammy"), ("joseph", "joe", "joey"), ("jonathan", "jon"), ("nicholas", "nick", "nicky"),
    ("stephen", "steve", "steven", "stevie"), ("peter", "pete"), ("edward", "ed", "ted", "eddie", "ned"),
    ("alexander", "alex", "alec", "sandy"), ("timothy", "tim", "timmy"), ("kenneth", "ken", "kenny"),
    ("raymond", "ray"), ("philip", "phil", "phillip"), ("david", "dave", "davy"), ("gregory", "greg"),
    ("frederick", "fred", "freddie", "freddy"), ("leonard", "len", "lenny"), ("charles", "charlie", "chuck"),
    ("joshua", "josh"), ("jacob", "jake"), ("nathan", "nate", "nathaniel"), ("douglas", "doug"),
    ("gerald", "gerry", "jerry"), ("terence", "terry"), ("donald", "don", "donny"), ("ronald", "ron", "ronnie"),
    ("henry", "harry", "hal", "hank"), ("patrick", "pat", "paddy"), ("albert", "al", "alf", "alfie"),
    ("oliver", "ollie", "olly"), ("archibald", "archie"), ("zachary", "zach", "zak"), ("lawrence", "larry"),
    ("harold", "harry", "hal"), ("francis", "frank", "frankie"), ("gordon", "gordy"), ("reginald", "reg"),
    ("elizabeth", "liz", "beth", "lizzie", "eliza", "betty", "bess", "libby"),
    ("margaret", "maggie", "peggy", "meg", "madge"), ("patricia", "pat", "trish", "patsy"),
    ("jennifer", "jen", "jenny"), ("katherine", "kate", "kathy", "katie", "kath", "kathryn", "catherine",
                                   "cathy", "cath", "kay"),
    ("rebecca", "becky", "becca"), ("samantha", "sam", "sammie"), ("victoria", "vicky", "vikki", "tori"),
    ("jacqueline", "jackie"), ("deborah", "debbie", "deb", "debra"), ("susan", "sue", "susie", "suzanne"),
    ("christine", "chris", "tina", "christina"), ("charlotte", "charlie", "lottie"),
    ("abigail", "abbie", "abby"), ("alexandra", "alex", "lexi", "sandra"), ("pamela", "pam"),
    ("dorothy", "dot", "dotty", "dolly"), ("joanne", "jo", "joanna"), ("nicola", "nicky", "nikki"),
    ("amanda", "mandy"), ("kimberley", "kim", "kimberly"), ("stephanie", "steph"),
    ("josephine", "jo", "josie"), ("frances", "fran", "frankie"), ("jessica", "jess", "jessie"),
    ("eleanor", "ellie", "nell", "elle", "eleanore"), ("judith", "judy", "jude"), ("valerie", "val"),
    ("gillian", "gill", "jill"), ("natalie", "nat"), ("georgina", "gina", "georgie"), ("bethany", "beth"),
    ("penelope", "penny"), ("rosemary", "rose", "rosie"), ("theresa", "tess", "tessa", "terri"),
    ("wendy", "gwendolen"), ("ann", "anne", "annie", "anna", "hannah"), ("mary", "molly", "polly", "mae"),
    ("sarah", "sally", "sara"), ("helen", "nell", "ellen"), ("louise", "lou", "lulu", "louisa"),
    ("caroline", "carrie", "carol", "carole"), ("emily", "em", "emmy"), ("emma", "em", "emmie"),
)


def nickname_index() -> dict[str, int]:
    """Lower-case name → its group number (first group wins)."""
    index: dict[str, int] = {}
    for number, group in enumerate(NAME_GROUPS):
        for name in group:
            index.setdefault(name, number)
    return index
