"""PRD203 (opt-in): PRD202's guess for loops over models the project index does not know."""

from __future__ import annotations

import ast

from prodlint.analysis.context import Context
from prodlint.model import Severity
from prodlint.registry import Rule
from prodlint.rules.nplusone.lazy_relation import relation_access
from prodlint.rules.nplusone.orm import nplusone_applies, short


class GuessedRelationInLoop(Rule):
    code = "PRD203"
    name = "GuessedRelationInLoop"
    summary = "PRD202 for models outside the checked files, guessed from attribute chains"
    message = (
        "`{access}` on each row of `{query}` looks like a relation loaded per row "
        "(`{model}` is not among the checked models); consider {remedy}"
    )
    what_it_does = """
The fallback of PRD202 for querysets of models prodlint cannot see (declared in another
package, or outside the checked files): on the loop variable of a loop over
`Model.objects...`, it flags `row.x.y` chains and `row.x.all()` / `.count()` / `.exists()`
calls, which are how related objects and managers are read. Chains that look like plain
values (`row.created.year`, `row.data.get(...)`, `row.image.url`, `*_at` / `*_id`
attributes) are not flagged.
"""
    why_bad = """
If `x` is a foreign key or a related manager, each row runs its own query (N+1). Without
the model's declaration this is a guess, so the rule is opt-in and reports at `info`.
"""
    example = """
from django.contrib.auth.models import User


def names():
    return [u.profile.display_name for u in User.objects.all()]
"""
    use_instead = """
from django.contrib.auth.models import User


def names():
    return [u.profile.display_name for u in User.objects.select_related("profile")]
"""
    fix_safety_note = """
No fix: without the model, prodlint cannot tell `select_related` from `prefetch_related`,
or a relation from a property. Check the project's models into the checked paths and
PRD202 takes over, with its fix.
"""
    severity = Severity.INFO
    default_enabled = False

    def applies_to(self, ctx: Context) -> bool:
        # Every guess ``relation_access`` makes starts with this file test.
        return nplusone_applies(ctx)

    def check_Attribute(self, node: ast.Attribute, ctx: Context) -> None:
        access = relation_access(node, ctx, guess=True)
        if access is None or access.relation is not None:
            return
        attr = access.node.attr
        remedy = f'prefetch_related("{attr}")' if access.many else f'select_related("{attr}")'
        self.report(
            ctx,
            access.node,
            access=ctx.source_of(access.node),
            model=access.source.model,
            query=short(ctx, access.source.expr),
            remedy=remedy,
        )
