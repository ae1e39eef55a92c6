"""The generative fixer end to end: a tiny Llama + LoRA trained here, an OpenAI-compatible server in-process.

No model can be downloaded, so the local model is a randomly initialised LlamaConfig(hidden_size=64, 2 layers)
with a byte-level BPE tokenizer trained in milliseconds; a LoRA adapter is trained in the fixture until it
answers the fix prompt with the fixed function. Every generated patch goes through the same verification as the
rewriters, and the rewriters stay the fallback.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ai_core.analysis import Analyzer
from ai_core.config import Settings
from ai_core.findings import Finding
from ai_core.fixes import Fixer
from ai_core.fixes.generative import (
    CircuitBreaker,
    GenerativeFixer,
    LocalModelProvider,
    OpenAIChatProvider,
    from_settings,
)
from ai_core.fixes.generative.prompt import build_messages, region_for, render_plain
from ai_core.parsing import ParsedDocument

SOURCE = '''import subprocess
import sys


def ping(host):
    return subprocess.run(f"ping -c 1 {host}", shell=True, check=False)


if __name__ == "__main__":
    ping(sys.argv[1])
'''
GENERATED = 'def ping(host):\n    return subprocess.run(["ping", "-c", "1", host], check=False)'
ANSWER = f"```python\n{GENERATED}\n```"
FIXED = SOURCE.replace('subprocess.run(f"ping -c 1 {host}", shell=True, check=False)',
                       'subprocess.run(["ping", "-c", "1", host], check=False)')
GARBAGE = "```python\ndef ping(host:\n    return os.system(host)\n```"


def _document(tmp: Path) -> tuple[ParsedDocument, Finding, Analyzer]:
    path = str(tmp / "ping.py")
    doc = ParsedDocument(SOURCE, path=path)
    analyzer = Analyzer(Settings(model_enabled=False))
    finding = next(f for f in analyzer.analyze(doc, path) if f.span.start_line == 5)
    return doc, finding, analyzer


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A random 2-layer Llama (safetensors) and a LoRA adapter trained to answer the ping fix prompt."""
    torch = pytest.importorskip("torch")
    from peft import LoraConfig, get_peft_model
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    torch.manual_seed(0)
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("tiny-llm")
    doc, finding, _ = _document(root)
    region = region_for(doc, finding)
    assert region is not None
    prompt = render_plain(build_messages(doc, finding, region))

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator([prompt, ANSWER, GARBAGE], trainers.BpeTrainer(
        vocab_size=600, special_tokens=["<eos>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<eos>", pad_token="<eos>")
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=2048,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    base = root / "base"
    model = LlamaForCausalLM(config)
    model.save_pretrained(base, safe_serialization=True)
    tokenizer.save_pretrained(base)

    lora = get_peft_model(model, LoraConfig(
        r=16, lora_alpha=16, lora_dropout=0.0, task_type="CAUSAL_LM", modules_to_save=["lm_head"],
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]))
    prompt_ids = tokenizer(prompt)["input_ids"]
    answer_ids = tokenizer(ANSWER)["input_ids"] + [tokenizer.eos_token_id]
    ids = torch.tensor([prompt_ids + answer_ids])
    labels = torch.tensor([[-100] * len(prompt_ids) + answer_ids])
    optimizer = torch.optim.AdamW([p for p in lora.parameters() if p.requires_grad], lr=3e-3)
    for _ in range(400):
        loss = lora(input_ids=ids, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if loss.item() < 0.02:
            break
    adapter = root / "adapter"
    lora.save_pretrained(adapter)
    assert (adapter / "adapter_model.safetensors").is_file()
    return base, adapter


def test_local_model_with_lora_adapter_produces_a_verified_fix(tiny_model: tuple[Path, Path], tmp_path: Path):
    base, adapter = tiny_model
    doc, finding, analyzer = _document(tmp_path)
    provider = LocalModelProvider(base, adapter)
    fixer = Fixer(analyzer, tmp_path, generator=GenerativeFixer([provider]))
    proposal = fixer.propose(doc, finding)
    assert proposal.source == "generative:local:base+adapter"
    assert proposal.fix is not None and proposal.fix.verified
    assert proposal.after == FIXED
    assert provider.quantized is False  # NF4 only when CUDA is present


def test_untrained_local_model_output_is_rejected_and_the_rewriter_answers(tiny_model: tuple[Path, Path],
                                                                          tmp_path: Path):
    base, _adapter = tiny_model
    doc, finding, analyzer = _document(tmp_path)
    fixer = Fixer(analyzer, tmp_path, generator=GenerativeFixer([LocalModelProvider(base)], max_tokens=40))
    proposal = fixer.propose(doc, finding)
    assert proposal.source == "rewriter:argument_list"
    assert proposal.after == FIXED
    assert all(not r.startswith("rewriter:") for r in proposal.rejected)


class ChatServer:
    """An OpenAI-compatible /v1/chat/completions endpoint on 127.0.0.1, scripted per request."""

    def __init__(self, replies: list[tuple[int, str]], delay_s: float = 0.0) -> None:
        self.replies = replies
        self.delay_s = delay_s
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body})
                if server.delay_s:
                    server.release.wait(server.delay_s)
                status, content = server.replies[min(len(server.requests), len(server.replies)) - 1]
                payload = json.dumps({"id": "x", "object": "chat.completion", "model": body.get("model"),
                                      "choices": [{"index": 0, "finish_reason": "stop",
                                                   "message": {"role": "assistant", "content": content}}]})
                data = payload.encode() if status == 200 else b'{"error": {"message": "busy"}}'
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL, like a vLLM or Ollama server's."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def finding_doc(tmp_path: Path) -> Iterator[tuple[ParsedDocument, Finding, Analyzer]]:
    """The vulnerable ping module, its structural finding, and a rules-only Analyzer."""
    yield _document(tmp_path)


def test_openai_compatible_endpoint_fix_is_verified_and_used(finding_doc, tmp_path: Path):
    doc, finding, analyzer = finding_doc
    with ChatServer([(200, f"Here is the fix:\n{ANSWER}\n")]) as server:
        provider = OpenAIChatProvider(server.url, "coder-7b")
        proposal = Fixer(analyzer, tmp_path, generator=GenerativeFixer([provider])).propose(doc, finding)
    assert proposal.source == "generative:openai:coder-7b"
    assert proposal.after == FIXED and proposal.fix is not None and proposal.fix.verified
    [request] = server.requests
    assert request["path"] == "/v1/chat/completions" and request["body"]["model"] == "coder-7b"
    assert 'subprocess.run(f"ping -c 1 {host}", shell=True' in request["body"]["messages"][1]["content"]


def test_endpoint_errors_are_retried_with_backoff(finding_doc, tmp_path: Path):
    doc, finding, analyzer = finding_doc
    with ChatServer([(503, ""), (429, ""), (200, ANSWER)]) as server:
        provider = OpenAIChatProvider(server.url, "m", retries=3, backoff_s=0.01)
        proposal = Fixer(analyzer, tmp_path, generator=GenerativeFixer([provider])).propose(doc, finding)
    assert provider.calls == 3 and len(server.requests) == 3
    assert proposal.source == "generative:openai:m"


def test_a_failing_endpoint_opens_the_circuit_and_the_rewriters_take_over(finding_doc, tmp_path: Path):
    doc, finding, analyzer = finding_doc
    with ChatServer([(500, "")]) as server:
        breaker = CircuitBreaker(threshold=2, cooldown_s=600)
        provider = OpenAIChatProvider(server.url, "m", retries=2, backoff_s=0.01, breaker=breaker)
        fixer = Fixer(analyzer, tmp_path, generator=GenerativeFixer([provider]))
        first = fixer.propose(doc, finding)
        second = fixer.propose(doc, finding)
        assert breaker.state == "open" and len(server.requests) == 4
        third = fixer.propose(doc, finding)
        assert len(server.requests) == 4, "an open circuit sends nothing"
    for proposal in (first, second, third):
        assert proposal.source == "rewriter:argument_list" and proposal.after == FIXED


def test_a_slow_endpoint_times_out_and_the_fix_falls_back(finding_doc, tmp_path: Path):
    doc, finding, analyzer = finding_doc
    with ChatServer([(200, ANSWER)], delay_s=5.0) as server:
        provider = OpenAIChatProvider(server.url, "m", timeout_s=0.2, retries=1)
        proposal = Fixer(analyzer, tmp_path, generator=GenerativeFixer([provider])).propose(doc, finding)
    assert proposal.source == "rewriter:argument_list"


def test_garbage_from_the_endpoint_is_rejected_by_verification(finding_doc, tmp_path: Path):
    doc, finding, analyzer = finding_doc
    with ChatServer([(200, GARBAGE)]) as server:
        proposal = Fixer(analyzer, tmp_path, generator=GenerativeFixer([OpenAIChatProvider(server.url, "m")])
                         ).propose(doc, finding)
    assert proposal.source == "rewriter:argument_list"
    assert any(r.startswith("generative:openai:m: the patched file does not parse") for r in proposal.rejected)


def test_code_stays_local_unless_an_endpoint_is_configured(tmp_path: Path):
    assert from_settings(Settings()) is None
    chain = from_settings(Settings(generative_endpoint="http://127.0.0.1:9/v1", generative_model="m"))
    assert chain is not None and [p.name for p in chain.providers] == ["openai:m"]
    local = from_settings(Settings(generative_model=str(tmp_path)), tmp_path)
    assert local is None, "a folder without config.json is not a model"
