"""Semantic indexing end to end: embeddings in the index run, dense search, resume, backends."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import codeassist
from codeassist.factory import embedding_cache_dir, make_query_embedder
from codeassist.embeddings.base import EmbeddingError
from codeassist.embeddings.onnx_query import OnnxQueryEmbedder
from codeassist.embeddings.sentence_transformers import SentenceTransformerEmbedder
from codeassist.index.store import open_reader
from codeassist.vectors.mirror import META_KEY, VectorMirror

from .conftest import generated_python_files, run_cli
from .openai_server import LocalOpenAIServer


@pytest.fixture(autouse=True)
def embeddings_on(monkeypatch):
    monkeypatch.setenv("CODEASSIST_EMBED", "1")


def _vector_ids(project) -> tuple[set[str], set[str]]:
    """(ids in the vector store, ids the index says are there)."""
    from codeassist.factory import make_vector_store
    from codeassist.index.embed_stage import collection_spec

    with open_reader(project.index_dir) as index:
        table = set(index.vector_ids())
    embedder = make_query_embedder(project.settings)
    spec = collection_spec(project.index_dir, embedder.model_id, embedder.dimensions, project.settings)
    return make_vector_store(project.settings, project.index_dir, spec).ids(), table


def _staged(project) -> tuple[set[str], set[str]]:
    """(vector ids staged for deletion, vector ids staged for addition)."""
    with open_reader(project.index_dir) as index:
        staged = index.staged_vectors()
    return set(staged.trash), {vector_id for vector_id, _path, _vector in staged.outbox}


def _meta(project, key: str) -> str | None:
    with open_reader(project.index_dir) as index:
        return index.meta(key)


def test_index_embeds_symbols_and_search_uses_them(multi_repo):
    project = codeassist.open(multi_repo)
    stats = project.index()
    assert stats.embed_units > 10 and stats.embedded == stats.embed_units
    assert stats.embed_computed == stats.embed_units and stats.embed_error == ""
    status = project.status()
    assert status.embedded == status.embed_units == stats.embed_units
    # a question whose words are not in the code: dense retrieval finds it
    hits = project.search("how long to wait between attempts", k=5)
    assert "dense" in hits[0].sources or any("dense" in h.sources for h in hits[:3])
    assert any(h.symbol == "payments.retry.RetryPolicy.backoff" for h in hits)
    vector_ids, table = _vector_ids(project)
    assert vector_ids == table and len(table) == stats.embed_units


def test_onnx_query_path_matches_sentence_transformers(multi_repo):
    project = codeassist.open(multi_repo)
    project.index()
    fast = make_query_embedder(project.settings)
    assert isinstance(fast, OnnxQueryEmbedder)
    texts = ("retry a failed upload", "where is the cache evicted? " * 20)
    # documents may be embedded in bf16 (precision "auto" on AMX CPUs): both must agree with
    # the float32 ONNX export that embeds queries
    for precision in ("fp32", "bf16"):
        reference = SentenceTransformerEmbedder(max_tokens=project.settings.embed_max_tokens,
                                                precision=precision)
        for a, b in zip(fast.embed_documents(texts), reference.embed_documents(texts)):
            assert float(np.dot(a, b)) > 0.999, precision
    # queries keep up to QUERY_MAX_TOKENS (128) tokens, documents embed_max_tokens (48)
    prefix = "where is the cache evicted? " * 8  # ~64 tokens
    first, second = prefix + "upload retries " * 10, prefix + "colour themes " * 10
    docs = fast.embed_documents([first, second])
    assert float(np.dot(docs[0], docs[1])) > 0.9999
    assert float(np.dot(fast.embed_query(first), fast.embed_query(second))) < 0.99
    reference = SentenceTransformerEmbedder(max_tokens=project.settings.embed_max_tokens, precision="fp32")
    assert float(np.dot(fast.embed_query(first), reference.embed_query(first))) > 0.999
    with pytest.raises(EmbeddingError, match="embed_precision"):
        SentenceTransformerEmbedder(precision="fp16")


def test_a_missing_or_unfinished_query_export_is_made_again_by_a_no_op_run(multi_repo):
    import shutil

    from codeassist.embeddings.onnx_query import onnx_dir

    project = codeassist.open(multi_repo)
    project.index()
    folder = onnx_dir(embedding_cache_dir(project.settings), make_query_embedder(project.settings).model_id)
    (folder / "codeassist-limits.json").unlink()  # as if the export had been cut short
    assert not isinstance(make_query_embedder(project.settings), OnnxQueryEmbedder)
    shutil.rmtree(folder)  # or an upgrade moved exports to a new folder
    legacy = folder.with_name(folder.name.rsplit("-v", 1)[0])  # where the old version kept it
    (legacy / "onnx").mkdir(parents=True)
    assert project.index().embed_computed == 0
    assert isinstance(make_query_embedder(project.settings), OnnxQueryEmbedder)
    assert not legacy.exists()  # ~90 MB not left behind


def test_incremental_embedding_reuses_the_cache_and_drops_deleted_vectors(multi_repo):
    project = codeassist.open(multi_repo)
    first = project.index()
    retry = multi_repo / "payments" / "retry.py"
    retry.write_text(retry.read_text().replace("return min(30.0, 0.5 * 2 ** attempt)",
                                               "return min(60.0, 0.25 * 2 ** attempt)"))
    (multi_repo / "web" / "app.js").unlink()
    second = project.index()
    # only two texts changed: backoff's, and its class's (whose text shows the start of its body);
    # every other symbol of the re-parsed file came from the cache
    assert second.embed_computed == 2
    assert second.embedded == second.embed_units < first.embed_units
    # a small change is staged: the query mirror has it at once, Chroma (whose import alone
    # costs ~1 s) gets it with the next run that opens it
    trash, outbox = _staged(project)
    vector_ids, table = _vector_ids(project)
    assert outbox and trash and not outbox & vector_ids and trash <= vector_ids
    assert (vector_ids - trash) | outbox == table
    assert set(VectorMirror.open(project.index_dir / "mirror", _meta(project, META_KEY)).rows()) == table
    question = "exponential backoff delay before the next attempt"
    assert any(h.symbol and h.symbol.endswith("backoff") for h in project.search(question, sources={"dense"}))
    matrix = project.index_dir / "mirror" / "vectors.npy"
    written = matrix.stat().st_mtime_ns
    assert project.index().embedded == second.embedded  # nothing new: still staged, no-op
    assert _staged(project) == (trash, outbox) and matrix.stat().st_mtime_ns == written
    # without the mirror, search reads Chroma plus what is staged
    shutil.rmtree(project.index_dir / "mirror")
    searcher = codeassist.open(multi_repo)
    hits = searcher.search(question, k=50, sources={"dense"})
    assert any(h.symbol and h.symbol.endswith("backoff") for h in hits)
    assert not any(h.path == "web/app.js" for h in hits)
    assert searcher.dense_source == "vector-store"
    project.index()  # a run that opens Chroma applies what was staged and rewrites the mirror
    vector_ids, table = _vector_ids(project)
    assert vector_ids == table and _staged(project) == (set(), set())
    searcher.search(question, sources={"dense"})  # the same searcher goes back to the mirror
    assert searcher.dense_source == "mirror"


def test_a_large_change_opens_the_vector_store_and_applies_what_was_staged(multi_repo, monkeypatch):
    from codeassist.index import embed_stage as embedding

    project = codeassist.open(multi_repo)
    project.index()
    retry = multi_repo / "payments" / "retry.py"
    retry.write_text(retry.read_text().replace("0.5 * 2 ** attempt", "0.75 * 2 ** attempt"))
    project.index()
    assert _staged(project)[1]
    monkeypatch.setattr(embedding, "STAGE_LIMIT", 0)  # every change is "large" now
    (multi_repo / "payments" / "extra.py").write_text("def refund(order):\n    return order.total\n")
    stats = project.index()
    vector_ids, table = _vector_ids(project)
    assert vector_ids == table and _staged(project) == (set(), set())
    assert stats.embedded == stats.embed_units


def test_a_second_checkout_costs_no_embeddings(make_repo, multi_repo, tmp_path):
    codeassist.open(multi_repo).index()
    from .conftest import MULTI_LANGUAGE_FILES

    clone = make_repo(MULTI_LANGUAGE_FILES, name="clone")
    stats = codeassist.open(clone).index()
    assert stats.embedded > 0 and stats.embed_computed == 0


def test_changing_the_embedding_settings_reembeds_never_mixes(multi_repo):
    project = codeassist.open(multi_repo)
    project.index()
    other = codeassist.open(multi_repo, embed_max_tokens=32)
    stats = other.index()
    assert "re-embedding" in stats.rebuilt
    assert stats.embedded == stats.embed_units
    vector_ids, table = _vector_ids(other)
    assert vector_ids == table


@pytest.mark.slow
def test_kill_9_during_embedding_then_resume(make_repo):
    root = make_repo(generated_python_files(100, functions=20))
    proc = subprocess.Popen([sys.executable, "-m", "codeassist", "index", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 180
    project = codeassist.open(root)
    embedded = 0
    while time.monotonic() < deadline and proc.poll() is None:  # until some batches are committed
        try:
            embedded = project.status(check_pending=False).embedded
        except codeassist.CodeassistError:
            embedded = 0  # the index is still being created
        if embedded >= 200:
            break
        time.sleep(0.1)
    assert proc.poll() is None, "embedding finished before it could be interrupted"
    assert embedded >= 200
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    partial = project.status()
    assert 0 < partial.embedded < partial.embed_units
    assert project.search("compute thing 3 of module 7")  # lexical + whatever vectors exist
    stats = project.index()
    assert stats.embedded == stats.embed_units == 2000
    assert stats.embed_computed < 2000  # what was embedded before the kill came from the cache
    vector_ids, table = _vector_ids(project)
    assert vector_ids == table and len(table) == 2000


def test_chroma_server_mode(multi_repo, chroma_server):
    host, port = chroma_server
    project = codeassist.open(multi_repo, chroma_url=f"{host}:{port}")
    stats = project.index()
    assert stats.embedded == stats.embed_units > 0
    assert not (project.index_dir / "chroma").exists()  # nothing embedded locally
    hits = project.search("how long to wait between attempts", k=5)
    assert any("dense" in h.sources for h in hits)


def test_server_vectors_stay_readable_after_an_upgrade_changes_the_embedded_text(
        multi_repo, chroma_server, monkeypatch):
    from codeassist.index import embed_stage as embedding

    host, port = chroma_server
    codeassist.open(multi_repo, chroma_url=f"{host}:{port}").index()
    # a newer version writes the text differently: until the next index run re-embeds, the
    # stored vectors (and the collection they are in) still answer
    monkeypatch.setattr(embedding, "UNIT_TEXT_VERSION", embedding.UNIT_TEXT_VERSION + 1)
    upgraded = codeassist.open(multi_repo, chroma_url=f"{host}:{port}")
    hits = upgraded.search("how long to wait between attempts", k=5)
    assert any("dense" in h.sources for h in hits)


def test_openai_compatible_embedder_end_to_end_and_failures(multi_repo):
    with LocalOpenAIServer() as server:
        project = codeassist.open(multi_repo, embedder="openai", embed_model="embed-1",
                                  embed_base_url=server.base_url)
        stats = project.index()
        assert stats.embedded == stats.embed_units > 0
        assert server.state.requests and all(r["path"] == "/v1/embeddings" for r in server.state.requests)
        hits = project.search("RetryPolicy backoff", k=5)
        assert any("dense" in h.sources for h in hits)

    # the server gone: the lexical index is still complete and the error says what to fix
    (multi_repo / "extra.py").write_text("def added():\n    return 1\n")
    proc = run_cli("index", str(multi_repo), "--json", "-q",
                   env={"CODEASSIST_EMBEDDER": "openai", "CODEASSIST_EMBED_MODEL": "embed-1",
                        "CODEASSIST_EMBED_BASE_URL": server.base_url})
    assert proc.returncode == 5, proc.stdout
    assert "semantic indexing failed, lexical search is ready" in proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["added"] == 1 and summary["embed_error"]
    assert project.symbols("added")


def test_embedding_cache_lives_outside_the_repository(multi_repo):
    project = codeassist.open(multi_repo)
    project.index()
    cache = embedding_cache_dir(project.settings)
    assert cache.is_relative_to(project.settings.home) and any(cache.glob("*.sqlite"))


def test_search_falls_back_when_vectors_do_not_match_the_settings(multi_repo, chroma_server):
    codeassist.open(multi_repo).index()
    changed = codeassist.open(multi_repo, embed_max_tokens=32)  # not re-indexed yet
    hits = changed.search("RetryPolicy backoff", k=5)
    assert hits and all("dense" not in h.sources for h in hits)
    host, port = chroma_server
    elsewhere = codeassist.open(multi_repo, chroma_url=f"{host}:{port}")
    assert all("dense" not in h.sources for h in elsewhere.search("RetryPolicy backoff", k=5))


def test_query_mirror_answers_without_chromadb_and_matches_it(multi_repo):
    from codeassist.vectors.mirror import META_KEY, VectorMirror

    project = codeassist.open(multi_repo)
    project.index()
    key = _meta(project, META_KEY)
    mirror = VectorMirror.open(project.index_dir / "mirror", key)
    assert mirror is not None
    # the same nearest neighbours as the vector store itself
    from codeassist.factory import make_vector_store
    from codeassist.index.embed_stage import collection_spec

    embedder = make_query_embedder(project.settings)
    spec = collection_spec(project.index_dir, embedder.model_id, embedder.dimensions, project.settings)
    chroma = make_vector_store(project.settings, project.index_dir, spec)
    for question in ("how long to wait between attempts", "render the basket total", "display name"):
        q = embedder.embed_query(question)
        assert [i for i, _ in mirror.query(q, 5)] == [i for i, _ in chroma.query(q, 5)]
    # a fresh process answers dense queries without importing chromadb
    script = (
        "import sys, codeassist\n"
        f"hits = codeassist.open({str(multi_repo)!r}).search('how long to wait between attempts', k=5)\n"
        "print(any('dense' in h.sources for h in hits), 'chromadb' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["True", "False"], out.stderr
    # an edit re-embeds, writes a new mirror, and a long-lived Project picks it up
    (multi_repo / "payments" / "fees.py").write_text(
        "def interchange_fee(amount):\n    \"\"\"Card network fee charged on each payment.\"\"\"\n"
        "    return amount * 0.002\n")
    project.index()
    assert _meta(project, META_KEY) not in (None, key)
    hits = project.search("card network fee for a payment", k=5, sources={"dense"})
    assert hits and hits[0].symbol == "payments.fees.interchange_fee"


def test_policy_and_unit_text_changes_reach_the_stored_vectors(make_repo, monkeypatch):
    from codeassist.index import embed_stage as embedding

    files = {
        "app/core.py": "def load_config(path):\n    return open(path).read()\n",
        "app/testdata/fixture.go": "package fixture\n\nfunc Sample() int { return 1 }\n",
        "tests/test_core.py": "def test_load_config():\n    assert True\n",
    }
    root = make_repo(files)
    everything = codeassist.open(root, embed_tests=True).index()
    assert everything.embed_units == 3
    # test code (now including Go testdata/) no longer embedded: its vectors go, nothing is recomputed
    project = codeassist.open(root)
    stats = project.index()
    assert stats.embed_units == stats.embedded == 1 and stats.embed_computed == 0
    vector_ids, table = _vector_ids(project)
    assert vector_ids == table and len(table) == 1
    assert {h.path for h in project.search("Sample fixture", k=5, sources={"dense"})} == {"app/core.py"}
    # and then it is a no-op again: the vector store is not even opened
    import codeassist.factory as backends

    def no_store(*_args, **_kwargs):
        raise AssertionError("a no-op run opened the vector store")

    with monkeypatch.context() as patch:
        patch.setattr(backends, "make_vector_store", no_store)
        assert project.index().embed_computed == 0
    # a new way of writing the embedded text is a settings change: everything is re-embedded
    monkeypatch.setattr(embedding, "UNIT_TEXT_VERSION", embedding.UNIT_TEXT_VERSION + 1)
    again = project.index()
    assert "re-embedding" in again.rebuilt and again.embedded == 1
    vector_ids, table = _vector_ids(project)
    assert vector_ids == table and len(table) == 1


def test_a_mirror_missing_a_vector_makes_the_run_take_the_full_way(multi_repo):
    from codeassist.vectors.mirror import write_mirror

    project = codeassist.open(multi_repo)
    project.index()
    folder = project.index_dir / "mirror"
    key = _meta(project, META_KEY)
    mirror = VectorMirror.open(folder, key)
    rows = mirror.rows()
    kept = sorted(rows)[1:]  # one vector lost, the key still claims the mirror is current
    write_mirror(folder, kept, np.stack([mirror.row(rows[i]) for i in kept]), key)
    retry = multi_repo / "payments" / "retry.py"
    retry.write_text(retry.read_text().replace("0.5 * 2 ** attempt", "0.75 * 2 ** attempt"))
    stats = project.index()
    assert stats.embedded == stats.embed_units
    vector_ids, table = _vector_ids(project)
    assert vector_ids == table and _staged(project) == (set(), set())
    assert set(VectorMirror.open(folder, _meta(project, META_KEY)).rows()) == table


def test_embedding_server_failures_lose_and_duplicate_nothing(make_repo):
    """Requests in flight at once; a 429, a 503, dropped connections and a request slower than
    the timeout are retried; a failure that is not retried keeps what was stored, and the next run
    sends only what is missing."""
    from codeassist.index.store import open_reader as reader_of

    root = make_repo(generated_python_files(12, functions=6))
    settings = dict(embedder="openai", embed_model="embed-1", embed_batch=8, embed_concurrency=4)
    with LocalOpenAIServer() as server:
        server.state.failures = [
            (429, {"error": {"message": "rate limited", "type": "rate_limit"}}),
            (0, {}),  # a dropped connection mid-batch
            (503, {"error": {"message": "overloaded"}}),
            (0, {}),
        ]
        server.state.failure_min_inputs = 2  # batches, in flight together (not the one-text probe)
        project = codeassist.open(root, embed_base_url=server.base_url, **settings)
        stats = project.index()
        assert not stats.embed_error
        assert stats.embedded == stats.embed_units == 12 * 6
        assert not server.state.failures  # every scripted failure was met, and retried
        bodies = [r["body"] for r in server.state.requests if r["path"].endswith("/embeddings")]
        assert max(len(b["input"]) for b in bodies) <= 8
        with reader_of(project.index_dir) as index:
            ids = index.vector_ids()
        assert len(ids) == len(set(ids)) == stats.embed_units

        # a failure the client does not retry (400) stops the stage; what was stored stays
        for i in range(12, 18):
            (root / f"pkg/new_{i}.py").write_text(
                "\n".join(f"def added_{i}_{j}(x):\n    return x + {j}\n" for j in range(6)))
        server.state.failures = [(400, {"error": {"message": "bad input"}})]
        failed = project.index()
        assert failed.embed_error and "bad input" in failed.embed_error
        assert project.symbols("added_12_0")  # the lexical index is complete regardless
        with reader_of(project.index_dir) as index:
            assert index.embedded_count() == 12 * 6  # what the first run stored is still there
        resumed = project.index()
        assert not resumed.embed_error and resumed.embedded == resumed.embed_units == 18 * 6
        with reader_of(project.index_dir) as index:
            ids = index.vector_ids()
        assert len(ids) == len(set(ids)) == 18 * 6
        assert len(project._dense_searcher().function(reader_of(project.index_dir))("added", 500)[0]) >= 1


def test_a_request_slower_than_the_timeout_is_retried(make_repo):
    from codeassist.embeddings.openai_compat import OpenAIEmbedder

    with LocalOpenAIServer() as server:
        server.state.failures = [(-1, {"sleep": 1.5})]
        embedder = OpenAIEmbedder("embed-1", base_url=server.base_url, timeout=0.5, concurrency=1)
        vectors = embedder.embed_documents(["alpha beta", "gamma delta"])
        assert vectors.shape[0] == 2
        assert len([r for r in server.state.requests if r["path"].endswith("/embeddings")]) == 2


def test_dense_search_works_on_what_is_covered_while_the_embedding_stage_runs(make_repo, monkeypatch):
    from codeassist.index import embed_stage

    monkeypatch.setattr(embed_stage, "MIRROR_EVERY_S", 0.0)  # the mirror follows every batch
    root = make_repo(generated_python_files(40, functions=20))  # 800 symbols: four batches
    project = codeassist.open(root)
    seen = []

    def progress(report):
        if report.phase == "embed" and 0 < report.done < report.total:
            other = codeassist.open(root)  # another reader, as another process would be
            with open_reader(other.index_dir) as index:
                covered = set(index.embedded())
                symbol_of = {s.qualname: s.id for s in index.symbols_in_files()}
            hits = other.search("compute thing 3 of module 7", k=10, sources={"dense"})
            with open_reader(other.index_dir) as index:  # weighed by the share covered
                _nearest, weight = other._dense_searcher().function(index)("thing 3", 5)
            assert weight == pytest.approx(min(1.0, report.done / report.total / 0.5))
            seen.append((report.done, report.total, other.semantic_progress(), other.dense_source, hits,
                         covered, symbol_of))

    stats = project.index(progress=progress)
    assert stats.embedded == stats.embed_units == 800
    assert len(seen) >= 2
    for done, total, semantic, source, hits, covered, symbol_of in seen:
        assert semantic is not None and semantic.running
        assert (semantic.embedded, semantic.units) == (done, total)
        assert "covers" in semantic.describe() and "running" in semantic.describe()
        assert source == "mirror" and hits  # dense search answers from the vectors so far ...
        assert all(symbol_of[h.symbol] in covered for h in hits)  # ... and only those
    assert project.semantic_progress() is None
    mirror = VectorMirror.open(project.index_dir / "mirror", _meta(project, META_KEY))
    assert mirror is not None and len(mirror.rows()) == 800


def test_an_embedding_stage_that_stops_early_says_so_and_resumes(make_repo, monkeypatch):
    from codeassist.index import embed_stage

    monkeypatch.setattr(embed_stage, "MIRROR_EVERY_S", 0.0)
    root = make_repo(generated_python_files(40, functions=20))
    project = codeassist.open(root)

    def progress(report):
        if report.phase == "embed" and report.done >= 512:
            raise KeyboardInterrupt  # ctrl+c in the middle of the stage

    with pytest.raises(KeyboardInterrupt):
        project.index(progress=progress)
    semantic = project.semantic_progress()
    assert semantic is not None and not semantic.running
    assert (semantic.embedded, semantic.units) == (512, 800)
    assert "stopped early" in semantic.describe()
    assert project.search("compute thing 3 of module 7", sources={"dense"})  # the mirror of the 512
    assert project.dense_source == "mirror"
    result = run_cli("search", "compute thing 3 of module 7", "--json", "--repo", str(root))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["semantic_partial"] == {"embedded": 512, "units": 800, "running": False}
    assert "512 of 800 symbols" in result.stderr and "codeassist index" in result.stderr
    stats = project.index()
    assert stats.embedded == 800 and stats.embed_computed == 288
    assert project.semantic_progress() is None
    result = run_cli("search", "compute thing 3 of module 7", "--json", "--repo", str(root))
    assert json.loads(result.stdout)["semantic_partial"] is None
