"""The per-process context every job and request uses: settings, database, Redis, rules,
classifier and SMS provider. Built once per process (`init`), before any fork."""
from __future__ import annotations

import logging
from functools import cached_property

from models.db import Database

from .policy import Rules, load_rules
from .redis_conn import EmbeddedRedis, connect
from .settings import ConfigError, Settings

log = logging.getLogger(__name__)


class Runtime:
    def __init__(self, settings: Settings, rules: Rules | None = None):
        self.settings = settings
        self.rules = rules or load_rules(settings.rules_path)
        self.db = Database(settings.database_url, pool=settings.db_pool)
        from .provider_templates import template_problems

        problems = template_problems(self.rules.policy, settings)
        if problems:  # a mainland provider sends approved templates only: refuse to start without them
            raise ConfigError("\n".join(problems))

    started_embedded_redis = False

    @cached_property
    def redis(self):
        if self.embedded_redis is not None:
            self.started_embedded_redis = self.embedded_redis.start()
        return connect(self.settings.redis_url, self.settings.instance_path, start_embedded=False)

    @cached_property
    def embedded_redis(self) -> EmbeddedRedis | None:
        return EmbeddedRedis(self.settings.instance_path) if self.settings.embedded_redis else None

    @cached_property
    def classifier(self):
        return shared_classifier(self.rules, self.settings)

    @cached_property
    def provider(self):
        from .providers import make_provider

        return make_provider(self.settings, self.rules.policy)

    def provider_named(self, name: str | None):
        """The provider a message was queued for (replies go back through the resident's channel);
        the default one for a name this configuration cannot send through."""
        if not name or name == self.provider.name or name not in self.provider.senders:
            return self.provider
        built = self.__dict__.setdefault("_providers", {})
        if name not in built:
            from .providers import make_provider

            built[name] = make_provider(self.settings, self.rules.policy, name)
        return built[name]

    def now(self):
        """The clock every decision reads (naive UTC); tests replace it to travel in time."""
        from models import utcnow

        return utcnow()

    @cached_property
    def retention_days(self) -> int:
        """Days closed cases keep residents' personal data (0: no limit); see workers.privacy."""
        from .privacy import configured_retention_days

        return configured_retention_days(self.rules.path)

    @property
    def policy(self):
        return self.rules.policy

    def close(self, stop_embedded: bool = False) -> None:
        """Release connections; with stop_embedded, also stop an embedded Redis this process started."""
        self.db.dispose()
        if "provider" in self.__dict__:
            self.provider.close()
        for provider in self.__dict__.pop("_providers", {}).values():
            provider.close()
        if "redis" in self.__dict__:
            self.redis.close()
        if stop_embedded and self.started_embedded_redis:
            self.embedded_redis.stop()
            self.started_embedded_redis = False


_classifiers: dict = {}


def shared_classifier(rules: Rules, settings: Settings):
    """One classifier per rules file content per process: building one loads jieba (~0.8 s)."""
    from classifier import Classifier

    lexicon = settings.lexicon_path
    key = (str(rules.path), rules.path.stat().st_mtime_ns, str(lexicon), lexicon.stat().st_mtime_ns if lexicon else 0)
    if key not in _classifiers:
        from classifier import LearnedModel, LexiconError

        _classifiers.clear()
        try:
            model = LearnedModel.load(lexicon, rules.classifier) if lexicon else None
        except LexiconError as exc:
            raise ConfigError(f"GRIDLINE_LEXICON: {exc}") from exc
        _classifiers[key] = Classifier(rules.classifier, cache_dir=settings.instance_path / "jieba", model=model)
    return _classifiers[key]


_current: Runtime | None = None


def init(settings: Settings, rules: Rules | None = None) -> Runtime:
    global _current
    if _current is not None:
        _current.close()
    _current = Runtime(settings, rules)
    return _current


def get() -> Runtime:
    if _current is None:
        from .settings import load_settings

        return init(load_settings())
    return _current


def reset() -> None:
    global _current
    if _current is not None:
        _current.close()
    _current = None
