"""Tiny dated articles about one heatwave, for the digest and later-report tests: a syndicated
copy, a first report and its update, an undated article, and two unrelated stories."""

from __future__ import annotations

import json
from pathlib import Path

ARTICLES = [
    {
        "id": "spain-heat",
        "title": "Spain swelters as heatwave pushes temperatures past 44C",
        "source": "Wire",
        "published": "2023-07-10",
        "text": (
            "Temperatures in southern Spain climbed past 44C on Monday as the heatwave tightened its grip "
            "on Europe. Seville and Cordoba recorded the hottest afternoons of the summer so far. The "
            "national weather agency said the heat would last until the end of the week."
        ),
    },
    {
        # The same wire story under another outlet's name: folded into spain-heat.
        "id": "spain-heat-copy",
        "title": "Spain swelters as heatwave pushes temperatures past 44C",
        "source": "Daily Echo",
        "published": "2023-07-10",
        "text": (
            "Temperatures in southern Spain climbed past 44C on Monday as the heatwave tightened its grip "
            "on Europe. Seville and Cordoba recorded the hottest afternoons of the summer so far. The "
            "national weather agency said the heat would last until the end of the week, the Echo reports."
        ),
    },
    {
        "id": "spain-deaths-first",
        "title": "Heatwave kills 12 in Spain",
        "source": "Wire",
        "published": "2023-07-12",
        "text": (
            "At least 12 people have died in the heatwave in Spain, health officials said on Wednesday. "
            "Most of the victims were elderly people living alone. Hospitals in Andalusia opened extra "
            "cooling rooms for patients."
        ),
    },
    {
        "id": "spain-deaths-update",
        "title": "Spain's heatwave death toll rises",
        "source": "Wire",
        "published": "2023-07-15",
        "text": (
            "At least 30 people have died in the heatwave in Spain, health officials said on Saturday. "
            "The regional government urged families to check on elderly neighbours twice a day. Water "
            "fountains in Madrid were kept running through the night."
        ),
    },
    {
        "id": "rhodes-fires",
        "title": "Wildfires force evacuations on Rhodes as European heatwave continues",
        "source": "Wire",
        "published": "2023-07-18",
        "text": (
            "Wildfires fanned by the European heatwave forced thousands of tourists to leave hotels on the "
            "Greek island of Rhodes on Tuesday. Firefighters from five countries joined the effort. Greek "
            "officials said the fires were the worst on the island in twenty years."
        ),
    },
    {
        "id": "heat-health",
        "title": "Doctors warn older people about the heatwave in Europe",
        "source": "Health Desk",
        "published": "",
        "text": (
            "Doctors across Europe warned that the heatwave is most dangerous for older people and young "
            "children. They advised drinking water often and staying indoors in the afternoon. Fans alone "
            "do not cool the body when the air is hotter than 35C, they said."
        ),
    },
    {
        "id": "cup-final",
        "title": "Rovers win the county cup final",
        "source": "Sports Desk",
        "published": "2023-07-16",
        "text": (
            "Rovers won the county cup final on Sunday, beating United 3-1 in front of a full stadium. "
            "Their captain scored twice in the second half. It is the club's first trophy in a decade."
        ),
    },
    {
        "id": "budget-vote",
        "title": "Council approves new budget for libraries",
        "source": "City Desk",
        "published": "2023-07-11",
        "text": (
            "The city council approved a budget that doubles the money for public libraries next year. "
            "The vote passed by nine votes to four after a long debate. Libraries will open on Sundays "
            "from January."
        ),
    },
]


def write_articles(folder: Path) -> Path:
    """The articles as one JSONL file in ``folder`` (returned: the folder to ingest)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"language": "en", "category": "", "url": "", **a}) for a in ARTICLES]
    (folder / "heatwave.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder
