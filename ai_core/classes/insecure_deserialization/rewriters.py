"""Insecure deserialization: `yaml.safe_load` for yaml; JSON instead of pickle, marshal, dill, jsonpickle."""

from __future__ import annotations

from ai_core.findings import TextEdit
from ai_core.fixes.calls import keyword, positional, removal_range
from ai_core.fixes.context import Draft, FixContext, Rewriter, source_independent
from ai_core.parsing.tree import enclosing, walk

_TO_JSON = {
    "pickle.loads": "loads", "pickle.load": "load", "cPickle.loads": "loads", "cPickle.load": "load",
    "_pickle.loads": "loads", "_pickle.load": "load", "dill.loads": "loads", "dill.load": "load",
    "marshal.loads": "loads", "marshal.load": "load", "jsonpickle.decode": "loads",
    "cloudpickle.loads": "loads", "cloudpickle.load": "load", "pandas.read_pickle": "",
}
_YAML = {"yaml.load": "safe_load", "yaml.load_all": "safe_load_all", "yaml.unsafe_load": "safe_load",
         "yaml.unsafe_load_all": "safe_load_all", "yaml.full_load": "safe_load", "yaml.full_load_all": "safe_load_all"}


def _calls(ctx: FixContext):  # type: ignore[no-untyped-def]
    call = enclosing(ctx.sink_node, "call")
    if call is not None:
        yield call
    for node in walk(ctx.node):
        if node.type == "call":
            yield node


@source_independent
def yaml_safe_load(ctx: FixContext) -> Draft | None:
    """`yaml.load(x)` / `yaml.load(x, Loader=yaml.Loader)` -> `yaml.safe_load(x)`."""
    for call in _calls(ctx):
        fn = call.child_by_field_name("function")
        if fn is None:
            continue
        name = ctx.qualified(ctx.doc.node_text(fn))
        if name not in _YAML:
            continue
        edits = []
        local = ctx.doc.node_text(fn)
        prefix = local.rsplit(".", 1)[0] if "." in local else ""
        new_fn = f"{prefix}.{_YAML[name]}" if prefix else ctx.ref("yaml", _YAML[name])
        edits.append(ctx.replace(fn, new_fn))
        loader = keyword(call, "Loader")
        args = positional(call)
        if loader is not None:
            start, end = removal_range(ctx.doc, loader)
            edits.append(TextEdit(start, end, ""))
        elif len(args) > 1:
            start, end = removal_range(ctx.doc, args[1])
            edits.append(TextEdit(start, end, ""))
        drops = [local.split(".")[0]] if not prefix else []
        return Draft(f"Use yaml.{_YAML[name]}() (plain data only)", edits, drop_imports=drops)
    return None


def json_instead_of_pickle(ctx: FixContext) -> Draft | None:
    """`pickle.loads(x)` (and marshal, dill, jsonpickle) -> `json.loads(x)`; the data must be JSON."""
    for call in _calls(ctx):
        fn = call.child_by_field_name("function")
        if fn is None:
            continue
        local = ctx.doc.node_text(fn)
        name = ctx.qualified(local)
        method = _TO_JSON.get(name)
        if not method:
            continue
        edits = [ctx.replace(fn, ctx.ref("json", method))]
        for extra in ("encoding", "fix_imports", "errors", "buffers", "ignore", "keys", "safe"):
            arg = keyword(call, extra)
            if arg is not None:
                start, end = removal_range(ctx.doc, arg)
                edits.append(TextEdit(start, end, ""))
        module = name.split(".")[0]
        return Draft(f"Load JSON with json.{method}() instead of {module}.{name.rsplit('.', 1)[1]}()", edits,
                     drop_imports=[local.split(".")[0]],
                     note="The data must now be JSON: change the writer side (json.dumps) to match.")
    return None


@source_independent
def torch_weights_only(ctx: FixContext) -> Draft | None:
    """`torch.load(f)` -> `torch.load(f, weights_only=True)`."""
    for call in _calls(ctx):
        fn = call.child_by_field_name("function")
        if fn is None or ctx.qualified(ctx.doc.node_text(fn)) != "torch.load":
            continue
        existing = keyword(call, "weights_only")
        if existing is not None:
            value = existing.child_by_field_name("value")
            if value is None:
                return None
            return Draft("Load tensors only (weights_only=True)", [ctx.replace(value, "True")])
        args = call.child_by_field_name("arguments")
        if args is None or args.end_byte - args.start_byte < 2:
            return None
        close = args.end_byte - 1
        inner = [c for c in args.named_children if c.type != "comment"]
        sep = ", " if inner else ""
        if inner and ctx.doc.data[inner[-1].end_byte:close].strip().startswith(b","):
            return Draft("Load tensors only (weights_only=True)",
                         [TextEdit(close, close, " weights_only=True")])
        point = inner[-1].end_byte if inner else close
        return Draft("Load tensors only (weights_only=True)", [TextEdit(point, point, f"{sep}weights_only=True")])
    return None


@source_independent
def numpy_no_pickle(ctx: FixContext) -> Draft | None:
    """`numpy.load(f, allow_pickle=True)` -> `allow_pickle=False`."""
    for call in _calls(ctx):
        value = keyword(call, "allow_pickle")
        inner = value.child_by_field_name("value") if value is not None else None
        if inner is not None and ctx.text(inner) not in {"False", "0"}:
            return Draft("Load arrays without pickle (allow_pickle=False)", [ctx.replace(inner, "False")])
    return None


REWRITERS: tuple[Rewriter, ...] = (yaml_safe_load, json_instead_of_pickle, torch_weights_only, numpy_no_pickle)
"""Tried in order for an insecure deserialization finding."""
