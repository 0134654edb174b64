"""ASL definitions with `${Name}` placeholders (CloudFormation DefinitionSubstitutions), rendered for the local stack."""

import json
import re

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


class UnresolvedPlaceholder(ValueError):
    pass


def render(text, substitutions, source="definition"):
    """Replaces every `${Name}`; a placeholder with no value is an error naming it (never sent half-rendered)."""
    missing = sorted({m for m in PLACEHOLDER.findall(text) if m not in substitutions})
    if missing:
        raise UnresolvedPlaceholder(f"{source}: no value for {', '.join('${' + m + '}' for m in missing)}")
    rendered = PLACEHOLDER.sub(lambda m: str(substitutions[m.group(1)]), text)
    json.loads(rendered)  # still valid JSON
    return rendered


def load(path, substitutions):
    with open(path) as f:
        return render(f.read(), substitutions, source=path)
