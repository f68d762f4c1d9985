"""GET /api/v1/search: syntax, ranking, visibility, pagination, safe snippets."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from dossier.models.user import User
from tests.documents import files
from tests.documents.conftest import Ingest, Upload
from tests.factories import auth_headers
from tests.helpers import assert_problem


async def _ingested(upload: Upload, ingest: Ingest, user: User, text: str, name: str) -> str:
    created = await upload(user, text.encode(), name, title=name)
    assert created.status_code == 201, created.text
    document_id: str = created.json()["id"]
    await ingest(document_id)
    return document_id


async def _search(
    client: httpx.AsyncClient, app: FastAPI, user: User, **params: str | int
) -> httpx.Response:
    return await client.get("/api/v1/search", params=params, headers=auth_headers(app, user))


async def test_query_syntax(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, ingest: Ingest, owner: User
) -> None:
    a = await _ingested(upload, ingest, owner, "The red fox jumps over the lazy dog.", "a.txt")
    b = await _ingested(upload, ingest, owner, "A lazy red cat naps; the dog jumps.", "b.txt")
    c = await _ingested(upload, ingest, owner, "Confidential: foxes and configuration.", "c.txt")

    async def ids(q: str) -> set[str]:
        response = await _search(client, app, owner, q=q)
        assert response.status_code == 200, response.text
        return {hit["document_id"] for hit in response.json()["items"]}

    assert await ids("lazy dog") == {a, b}  # all words, any order
    assert await ids('"lazy dog"') == {a}  # exact phrase
    assert await ids("conf*") == {c}  # prefix
    assert await ids("configura*") == {c}  # longer than the stem "configur"
    assert await ids("fox") == {a, c}  # stemming: foxes ~ fox
    assert await ids("lazy -cat") == {a}  # exclusion
    assert await ids("JUMPS") == {a, b}  # case-insensitive
    assert await ids("zeppelin") == set()
    assert await ids("(fox*) :* & | ! ^") == {a, c}  # engine operators are ignored


@pytest.mark.parametrize("q", ['"unbalanced', "-only", "!!!", ""])
async def test_malformed_queries_are_400_or_422(
    client: httpx.AsyncClient, app: FastAPI, owner: User, q: str
) -> None:
    response = await _search(client, app, owner, q=q)
    if q == "":
        assert_problem(response, 422)
    else:
        assert_problem(response, 400, "invalid_search_query")


async def test_ranking_prefers_more_matches(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, ingest: Ingest, owner: User
) -> None:
    once = await _ingested(upload, ingest, owner, "walrus. " + "filler words here. " * 30, "1.txt")
    often = await _ingested(upload, ingest, owner, "walrus walrus walrus on the ice.", "2.txt")
    hits = (await _search(client, app, owner, q="walrus")).json()["items"]
    assert [hit["document_id"] for hit in hits] == [often, once]
    assert hits[0]["score"] > hits[1]["score"]


async def test_only_visible_documents_are_searched(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, ingest: Ingest, owner: User,
    other: User, moderator: User,
) -> None:  # fmt: skip
    mine = await _ingested(upload, ingest, owner, "platypus in my notes", "mine.txt")
    theirs = await _ingested(upload, ingest, other, "platypus in their notes", "theirs.txt")
    found = (await _search(client, app, owner, q="platypus")).json()
    assert [hit["document_id"] for hit in found["items"]] == [mine]
    assert found["total"] == 1
    everything = (await _search(client, app, moderator, q="platypus")).json()
    assert {hit["document_id"] for hit in everything["items"]} == {mine, theirs}


async def test_pagination(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, ingest: Ingest, owner: User
) -> None:
    for index in range(5):
        await _ingested(upload, ingest, owner, f"narwhal number {index}", f"{index}.txt")
    first_response = await _search(client, app, owner, q="narwhal", limit=2)
    first = first_response.json()
    second = (await _search(client, app, owner, q="narwhal", limit=2, page=2)).json()
    third_response = await _search(client, app, owner, q="narwhal", limit=2, page=3)
    third = third_response.json()
    assert first["total"] == 5
    assert (first["page"], first["next_cursor"]) == (1, None)
    assert (len(first["items"]), len(second["items"]), len(third["items"])) == (2, 2, 1)
    seen = [hit["document_id"] for page in (first, second, third) for hit in page["items"]]
    assert len(set(seen)) == 5
    # The last page has no next link.
    assert "link" not in third_response.headers
    for params in ({"limit": 0}, {"limit": 101}, {"page": 0}, {"page": 1001}):
        assert_problem(
            await _search(client, app, owner, q="narwhal", **params), 422, "validation_failed"
        )


async def test_link_header_points_to_the_next_page(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, ingest: Ingest, owner: User
) -> None:
    for index in range(3):
        await _ingested(upload, ingest, owner, f"quokka number {index}", f"{index}.txt")
    headers = auth_headers(app, owner)

    first = await _search(client, app, owner, q="quokka", limit=2)
    assert first.status_code == 200
    target, relation = _next_link(first)
    assert relation == 'rel="next"'
    url = httpx.URL(target)
    assert url.path == "/api/v1/search"
    assert dict(url.params) == {"q": "quokka", "limit": "2", "page": "2"}
    # Following it gives the rest, and that last page links nowhere.
    second = await client.get(target, headers=headers)
    assert second.status_code == 200
    assert second.json()["page"] == 2
    assert len(second.json()["items"]) == 1
    seen = {hit["document_id"] for page in (first, second) for hit in page.json()["items"]}
    assert len(seen) == 3
    assert "link" not in second.headers

    # One page holds everything: no link; a page past the end: none either.
    assert "link" not in (await _search(client, app, owner, q="quokka", limit=3)).headers
    beyond = await _search(client, app, owner, q="quokka", limit=2, page=5)
    assert beyond.json()["items"] == []
    assert "link" not in beyond.headers
    assert "link" not in (await _search(client, app, owner, q="zeppelin")).headers


def _next_link(response: httpx.Response) -> tuple[str, str]:
    """The one ``Link`` header of ``response``, split into its target and parameter."""
    links = response.headers.get_list("link")
    assert len(links) == 1, links
    target, _, relation = links[0].partition(";")
    assert target.startswith("<"), links
    assert target.endswith(">"), links
    return target[1:-1], relation.strip()


async def test_snippets_escape_html(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, ingest: Ingest, owner: User
) -> None:
    text = "Marker words: axolotl <img src=x onerror=alert(1)> & more"
    await _ingested(upload, ingest, owner, text, "x.md")
    snippet = (await _search(client, app, owner, q="axolotl")).json()["items"][0]["snippet"]
    assert "<img" not in snippet
    assert "&lt;img" in snippet
    assert "<mark>axolotl</mark>" in snippet


async def test_a_pdf_hit_names_its_page(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, ingest: Ingest, owner: User
) -> None:
    pdf = files.make_pdf(["cover", "contents", "chapter about the okapi"])
    created = (await upload(owner, pdf, "book.pdf")).json()
    await ingest(created["id"])
    hit = (await _search(client, app, owner, q="okapi")).json()["items"][0]
    assert (hit["page"], hit["chunk_index"]) == (3, 2)
