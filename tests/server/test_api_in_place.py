"""The REST API over a dataset registered in place from a database whose URL holds a password: no route shows the
login (catalogue search and entry, the owner's datasets and usage report, requests), and an analyst's load through
the kernel route reads the source."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from factories import episode_record, episodes
from helpers import ADMIN, ANALYST, OWNER, PROJECT, pg_scratch_schema

from workbench.catalogue.sources import Source

SECRET = "s3cret-pw"
DATASET = "dhsc.episodes"


@pytest.fixture
def pg_episodes():
    with pg_scratch_schema("rest") as (url, schema, engine):
        with engine.begin() as conn:
            episodes(120).to_sql("ep", conn, schema=schema, index=False)
        parsed = sa.make_url(url)
        with_password = parsed.set(username=parsed.username or "postgres", password=SECRET)
        yield Source.database(with_password.render_as_string(hide_password=False), table=f"{schema}.ep")


async def test_no_route_shows_the_source_s_login(api, served, pg_episodes) -> None:
    served(OWNER).catalogue.register(episode_record(), data=pg_episodes, mode="in-place")
    request = served(ANALYST).project(PROJECT).request_access(DATASET, justification="Episodes by age")
    served(OWNER).owner.decide(request["id"], "approve")
    assert len(served(ANALYST).project(PROJECT).load(DATASET, where={"age_band": "65+"})) > 0
    replies = [
        await api(ANALYST, "GET", "catalogue", params={"q": "episodes"}),
        await api(ANALYST, "GET", "catalogue", DATASET),
        await api(OWNER, "GET", "owner", "datasets"),
        await api(OWNER, "GET", "owner", "usage", DATASET),
        await api(OWNER, "GET", "requests", "to-decide"),
        await api(ANALYST, "GET", "requests", "mine"),
        await api(ADMIN, "GET", "admin", "audit", "verify"),
    ]
    for reply in replies:
        assert reply.status == 200, reply
        text = json.dumps(reply.json)
        assert SECRET not in text and "postgres@" not in text
    assert replies[1].json["row_count"] == 120
    assert replies[1].json["storage"] == {"mode": "in-place"}  # where it is held is for its owner, not analysts
    mine = await api(OWNER, "GET", "catalogue", DATASET)
    assert mine.json["storage"]["mode"] == "in-place" and mine.json["storage"]["table"].endswith(".ep")
    assert SECRET not in json.dumps(mine.json)
