"""Where autolog hooks into scikit-learn: the fit and score methods of every BaseEstimator
subclass, those loaded already and those defined later, as MLflow's autolog patches them.

Only a top-level call is recorded: a fit made inside another (a Pipeline's steps, a search's
candidates) or a score computed by autolog itself runs unrecorded. "Inside" is process-wide,
not per thread: scikit-learn fits an ensemble's members in threads of its own (joblib's
threading backend), and those are no top-level fits; the price is that of two fits a
program runs at once in two threads, one may go unrecorded.
When scikit-learn is not imported yet, nothing is imported here: a finder on sys.meta_path
waits for `sklearn.base` (and `sklearn.metrics`) and hooks in once each is loaded.

Predictions are remembered and the metric functions of `sklearn.metrics` wrapped for what
sklearn_metric_calls records. scikit-learn's `available_if` methods (Pipeline.score, …) are
descriptors holding the function as `.fn`: the one place here that reaches into
scikit-learn's internals.
"""

import functools
import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType, ModuleType
from typing import Any

from boxops.autologging import sklearn_metric_calls, sklearn_records
from boxops.autologging.messages import safely

FITS = ("fit", "fit_transform", "fit_predict")
SCORES = ("score",)
PREDICTS = ("predict", "predict_proba")
MARK = "__boxops_autolog__"


class Settings:
    """What autolog() was last asked for; read by every hooked call."""

    enabled = False
    log_models = True


class _Depth:
    """How many recorded calls are running, in any thread."""

    n = 0
    lock = threading.Lock()


def hook() -> None:
    """Hook into scikit-learn now if it is loaded, else as soon as it is."""
    waiting = set()
    for name, hook_module in MODULES.items():
        module = sys.modules.get(name)
        if module is not None:
            safely("hooks", hook_module, module)
        else:
            waiting.add(name)
    if waiting and not any(isinstance(f, _Watcher) for f in sys.meta_path):
        sys.meta_path.insert(0, _Watcher(waiting))


def _hook_base(module: ModuleType) -> None:
    base = module.BaseEstimator
    if MARK in base.__dict__:
        return
    _hook_subclasses_of(base)
    setattr(base, MARK, True)
    for cls in _subclasses(base):
        hook_class(cls)


def _hook_metrics(module: ModuleType) -> None:
    for name in sklearn_metric_calls.metric_names(module):
        function = getattr(module, name, None)
        if callable(function) and not getattr(function, MARK, False):
            setattr(module, name, _metric(name, function))


def _hook_subclasses_of(base: type) -> None:
    """Classes defined from now on are hooked as they are created."""
    own = base.__dict__.get("__init_subclass__")

    def init_subclass(cls: type, **kwargs: Any) -> None:
        if own is not None:
            own.__get__(None, cls)(**kwargs)
        else:
            super(base, cls).__init_subclass__(**kwargs)  # type: ignore[arg-type]
        safely("hooks", hook_class, cls)

    base.__init_subclass__ = classmethod(init_subclass)  # type: ignore[assignment]


def _subclasses(base: type) -> list[type]:
    found: dict[type, None] = {}  # a class reached twice (diamonds) is listed once
    todo = [base]
    while todo:
        cls = todo.pop()
        found[cls] = None
        subclasses: list[type] = cls.__subclasses__()
        todo.extend(c for c in subclasses if c not in found)
    return list(found)


def hook_class(cls: type) -> None:
    """Wrap the fit and score methods `cls` has, in the class that defines each: its own, a
    base estimator's or a mixin's (ClassifierMixin.score is not a BaseEstimator's)."""
    for names, wrap in ((FITS, _fit), (SCORES, _score), (PREDICTS, _predict)):
        for name in names:
            owner = next((c for c in cls.__mro__ if name in c.__dict__), None)
            if owner is not None and owner is not object:
                _wrap_method(owner, name, wrap)


def _wrap_method(cls: type, name: str, wrap: Callable[[Any], Any]) -> None:
    method = cls.__dict__.get(name)
    if method is None or isinstance(method, (staticmethod, classmethod, property)):
        return
    if callable(method):
        if not getattr(method, MARK, False):
            setattr(cls, name, wrap(method))
    elif callable(getattr(method, "fn", None)) and not getattr(method.fn, MARK, False):
        method.fn = wrap(method.fn)  # scikit-learn's available_if descriptor


def _inside() -> bool:
    return _Depth.n > 0


class _Nested:
    """Calls made while this is held are not top-level."""

    def __enter__(self) -> None:
        with _Depth.lock:
            _Depth.n += 1

    def __exit__(self, *_: object) -> None:
        with _Depth.lock:
            _Depth.n -= 1


def _fit(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not Settings.enabled or _inside():
            return original(self, *args, **kwargs)
        with _Nested():
            result = original(self, *args, **kwargs)
            safely("fit", sklearn_records.fitted, self, args, kwargs, Settings.log_models)
        return result

    setattr(fit, MARK, True)
    return fit


def _score(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def score(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not Settings.enabled or _inside():
            return original(self, *args, **kwargs)
        with _Nested():
            result = original(self, *args, **kwargs)
            safely("score", _scored, self, result, args, kwargs, sys._getframe(1))
        return result

    setattr(score, MARK, True)
    return score


def _predict(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def predict(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not Settings.enabled or _inside():
            return original(self, *args, **kwargs)
        with _Nested():
            result = original(self, *args, **kwargs)
            safely("predictions", _predicted, result, args, kwargs, sys._getframe(1))
        return result

    setattr(predict, MARK, True)
    return predict


def _metric(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def metric(*args: Any, **kwargs: Any) -> Any:
        if not Settings.enabled or _inside():
            return original(*args, **kwargs)
        with _Nested():
            result = original(*args, **kwargs)
            safely("metric", sklearn_metric_calls.called, name, result, args, kwargs)
        return result

    setattr(metric, MARK, True)
    return metric


def _predicted(
    result: Any, args: tuple[Any, ...], kwargs: dict[str, Any], caller: FrameType
) -> None:
    data = args[0] if args else kwargs.get("X")
    sklearn_metric_calls.remember(result, name_in(caller, data))


def _scored(
    estimator: Any, result: Any, args: tuple[Any, ...], kwargs: dict[str, Any], caller: FrameType
) -> None:
    data = args[0] if args else kwargs.get("X")
    sklearn_records.scored(estimator, result, name_in(caller, data))


def name_in(frame: FrameType | None, value: Any) -> str | None:
    """The name the calling code gives `value` (`X_test`), if it has one."""
    if frame is None or value is None:
        return None
    try:
        return next((k for k, v in frame.f_locals.items() if v is value), None)
    finally:
        del frame  # no reference cycle through the frame


MODULES: dict[str, Callable[[ModuleType], None]] = {
    "sklearn.base": _hook_base,
    "sklearn.metrics": _hook_metrics,
}


class _Watcher(importlib.abc.MetaPathFinder):
    """Waits for the modules of MODULES to be imported, then hooks into each."""

    def __init__(self, waiting: set[str]) -> None:
        self.waiting = waiting

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.waiting:
            return None
        self.waiting.discard(fullname)
        if not self.waiting:
            sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenHook(spec.loader, MODULES[fullname])
        return spec


class _ThenHook(importlib.abc.Loader):
    """A module's own loader, and autolog's hooks once it has run."""

    def __init__(self, loader: importlib.abc.Loader, then: Callable[[ModuleType], None]) -> None:
        self.loader = loader
        self.then = then

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        safely("hooks", self.then, module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)
