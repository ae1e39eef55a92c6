"""Insecure deserialization (CWE-502): pickle-like formats rebuild arbitrary objects and run code on load.

Fix: exchange JSON (`json.loads`), load YAML with `yaml.safe_load`, load torch weights with
`weights_only=True`, or sign the data with HMAC and verify it before unpickling.
"""

from __future__ import annotations

from ai_core.analysis.specs.spec_types import ArgTest, ClassSpec, Sink
from ai_core.findings import Severity, VulnClass

DESER = VulnClass.INSECURE_DESERIALIZATION

_SAFE_LOADERS = ("SafeLoader", "CSafeLoader", "BaseLoader")

SPEC = ClassSpec(
    vuln_class=DESER,
    sinks=(
        Sink(
            id="deserialization.pickle-loads",
            vuln_class=DESER,
            patterns=("pickle.loads", "pickle.load", "pickle.Unpickler", "cPickle.loads", "cPickle.load",
                      "_pickle.loads", "_pickle.load", "dill.loads", "dill.load", "cloudpickle.loads",
                      "cloudpickle.load", "pandas.read_pickle", "joblib.load", "shelve.Shelf"),
            args=(0, "data", "file", "filepath_or_buffer", "filename"),
            confidence=0.9,
            structural=True,
            structural_confidence=0.8,
            reason="Unpickling runs code chosen by whoever wrote the bytes (__reduce__).",
            example="obj = pickle.loads(request.data)",
            title="pickle.loads of non-literal data",
        ),
        Sink(
            id="deserialization.marshal-loads",
            vuln_class=DESER,
            patterns=("marshal.loads", "marshal.load"),
            args=(0,),
            confidence=0.85,
            structural=True,
            structural_confidence=0.6,
            severity=Severity.MEDIUM,
            reason="marshal is not safe against malicious data (crashes, code objects).",
            example="code = marshal.loads(blob)",
            title="marshal.loads of non-literal data",
        ),
        Sink(
            id="deserialization.yaml-load",
            vuln_class=DESER,
            patterns=("yaml.load", "yaml.load_all"),
            args=(0, "stream"),
            unless=(ArgTest("Loader", position=1, endswith=_SAFE_LOADERS),),
            confidence=0.9,
            structural=True,
            structural_confidence=0.85,
            reason="yaml.load without a safe Loader builds arbitrary Python objects (!!python/object).",
            example="config = yaml.load(request.data, Loader=yaml.Loader)",
            title="yaml.load without a safe loader",
        ),
        Sink(
            id="deserialization.yaml-unsafe-load",
            vuln_class=DESER,
            patterns=("yaml.unsafe_load", "yaml.unsafe_load_all"),
            args=(0, "stream"),
            confidence=0.9,
            structural=True,
            structural_confidence=0.85,
            reason="unsafe_load builds arbitrary Python objects.",
            example="yaml.unsafe_load(body)",
            title="yaml.unsafe_load of non-literal data",
        ),
        Sink(
            id="deserialization.yaml-full-load",
            vuln_class=DESER,
            patterns=("yaml.full_load", "yaml.full_load_all"),
            args=(0, "stream"),
            severity=Severity.MEDIUM,
            confidence=0.75,
            structural=True,
            structural_confidence=0.6,
            reason="full_load (FullLoader) resolves Python tags such as !!python/name; several of its releases "
                   "allowed code execution. Plain data needs only safe_load.",
            example="settings = yaml.full_load(upload.read())",
            title="yaml.full_load of non-literal data",
        ),
        Sink(
            id="deserialization.jsonpickle",
            vuln_class=DESER,
            patterns=("jsonpickle.decode", "jsonpickle.unpickler.decode"),
            args=(0, "string"),
            confidence=0.9,
            structural=True,
            structural_confidence=0.75,
            reason="jsonpickle.decode instantiates the classes named in its input.",
            example="cart = jsonpickle.decode(request.cookies['cart'])",
            title="jsonpickle.decode of non-literal data",
        ),
        Sink(
            id="deserialization.torch-load",
            vuln_class=DESER,
            patterns=("torch.load",),
            args=(0, "f"),
            unless=(ArgTest("weights_only", truthy=True),),
            structural=True,
            structural_confidence=0.7,
            severity=Severity.HIGH,
            reason="torch.load unpickles unless weights_only=True.",
            example="model = torch.load(uploaded_path)",
            title="torch.load without weights_only=True",
        ),
        Sink(
            id="deserialization.numpy-allow-pickle",
            vuln_class=DESER,
            patterns=("numpy.load",),
            args=(0, "file"),
            when=(ArgTest("allow_pickle", truthy=True),),
            structural=True,
            structural_confidence=0.7,
            reason="numpy.load(allow_pickle=True) unpickles object arrays.",
            example="arr = np.load(path, allow_pickle=True)",
            title="numpy.load with allow_pickle=True",
        ),
        Sink(
            id="deserialization.shelve-open",
            vuln_class=DESER,
            patterns=("shelve.open",),
            args=(0, "filename"),
            confidence=0.75,
            severity=Severity.MEDIUM,
            reason="A shelf is a pickle database: opening one the client chose unpickles its contents.",
            example="db = shelve.open(request.args['profile'])",
            title="shelve.open of a file chosen by untrusted data",
        ),
    ),
)
