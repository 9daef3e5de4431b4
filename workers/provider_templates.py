"""Approved provider templates (routing_rules.yaml `provider_templates`).

Mainland providers send no free text: every SMS is an approved template plus parameters. Each
of our template keys maps, per provider, to the provider's approved template id and the names
of its parameters, which must be exactly the placeholders of our template (Tencent numbers its
parameters {1}, {2} ... in the order given here; Aliyun names them ${name}).

    provider_templates:
      aliyun:
        receipt: {id: SMS_480215001, params: [number, team, due]}
      tencent:
        receipt: {id: "2034567", params: [number, team, due]}
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass

from .channels import TEMPLATE_PROVIDERS

# Only ever a piece of another SMS: never sent on its own.
NOT_SENT = frozenset({"status_line"})
ID_FORMS = {"aliyun": (re.compile(r"SMS_\d{3,20}"), "SMS_ followed by digits, e.g. SMS_480215001"),
            "tencent": (re.compile(r"\d{3,12}"), "the digits of the template ID, e.g. \"2034567\"")}


@dataclass(frozen=True)
class ProviderTemplate:
    id: str
    params: tuple[str, ...]


def placeholders(text: str) -> list[str]:
    seen: list[str] = []
    for _, name, _, _ in string.Formatter().parse(text):
        if name and name not in seen:
            seen.append(name)
    return seen


def parse_provider_templates(data, check, templates: dict[str, str]) -> dict[str, dict[str, ProviderTemplate]]:
    out: dict[str, dict[str, ProviderTemplate]] = {}
    section = check.mapping(data, ("provider_templates",), required=False)
    for provider, mapping in section.items():
        base = ("provider_templates", provider)
        if provider not in TEMPLATE_PROVIDERS:
            check.error(base, f"unknown provider; templates are mapped for {', '.join(TEMPLATE_PROVIDERS)}")
            continue
        form, example = ID_FORMS[provider]
        for key, body in check.mapping(mapping, base, required=False).items():
            path = base + (key,)
            if key not in templates:
                check.error(path, f"no template {key!r} under templates")
                continue
            body = check.mapping(body, path)
            if not body:
                continue
            template_id = body.get("id")
            template_id = str(template_id) if isinstance(template_id, int) and not isinstance(template_id, bool) else template_id
            if not isinstance(template_id, str) or not form.fullmatch(template_id.strip()):
                check.error(path + ("id",), f"expected the approved template id: {example}")
                continue
            params = check.text_list(body.get("params"), path + ("params",))
            expected = placeholders(templates[key])
            if len(set(params)) != len(params):
                check.error(path + ("params",), "a parameter is named twice")
            elif set(params) != set(expected):
                missing, extra = set(expected) - set(params), set(params) - set(expected)
                detail = "; ".join(filter(None, (
                    f"missing {', '.join(sorted(missing))}" if missing else "",
                    f"not in the template: {', '.join(sorted(extra))}" if extra else "")))
                check.error(path + ("params",), f"must name exactly the template's placeholders "
                                                f"[{', '.join(expected)}] ({detail})")
            out.setdefault(provider, {})[key] = ProviderTemplate(template_id.strip(), tuple(params))
    return out


def unmapped(policy, provider: str) -> list[str]:
    """Template keys that the provider could not send (no approved template id)."""
    if provider not in TEMPLATE_PROVIDERS:
        return []
    mapped = policy.provider_templates.get(provider, {})
    return [key for key in policy.templates if key not in NOT_SENT and key not in mapped]


def template_providers(settings) -> list[str]:
    """The template providers that this configuration sends through."""
    chosen = {settings.sms_provider} | {name for name in TEMPLATE_PROVIDERS if settings.channels.sends(name)}
    return [name for name in TEMPLATE_PROVIDERS if name in chosen]


def approval_text(provider: str, text: str, params: tuple[str, ...]) -> str:
    """The template text to submit for approval: ${name} for Aliyun, {1} {2} ... for Tencent."""
    for index, name in enumerate(params, 1):
        text = text.replace("{" + name + "}", "${" + name + "}" if provider == "aliyun" else "{" + str(index) + "}")
    return text


def template_problems(policy, settings) -> list[str]:
    """One line per template the chosen providers could not send."""
    problems = []
    for provider in template_providers(settings):
        missing = unmapped(policy, provider)
        if missing:
            problems.append(f"{settings.rules_path}: provider_templates.{provider}: no approved template id for "
                            f"{', '.join(missing)} (GRIDLINE_SMS_PROVIDER or the {provider} credentials choose {provider}; "
                            f"`gridline rules templates {provider}` prints the texts to submit)")
    return problems
