"""PRD001: a ``# noqa: PRD...`` comment that suppresses nothing."""

from __future__ import annotations

import ast
from collections.abc import Sequence

from prodlint.analysis.context import Context
from prodlint.model import Finding, Severity
from prodlint.noqa import UNUSED_NOQA_CODE, NoqaComment, noqa_comments, unused_noqa
from prodlint.registry import Rule, matches

COMMENTS_MEMO = "noqa-comments"


class UnusedNoqa(Rule):
    code = UNUSED_NOQA_CODE
    name = "UnusedNoqa"
    summary = "A `# noqa: PRD...` comment that suppresses no finding"
    message = "Unused `noqa` for {codes}: nothing on this line is reported under that code"
    what_it_does = """
Reports `# noqa` comments that list prodlint codes (or prefixes) no finding on their line
is reported under, as ruff's RUF100 does, saying when the code is unknown or its rule is
not enabled in this run. Only prodlint's codes are judged (`E501`, `T201` belong to other
tools), and only in real comments, not in strings.
"""
    why_bad = """
A stale suppression hides the next real finding on that line: after the code changes, a new
problem of the same kind is silenced without anyone deciding it should be. It also tells
the reader a problem is there when it is not.
"""
    example = """
def total(prices):
    return sum(prices)  # noqa: PRD501
"""
    use_instead = """
def total(prices):
    return sum(prices)
"""
    fix_safety_note = "This rule has no fix yet: delete the code (or the whole comment) by hand."
    severity = Severity.WARNING

    def check_Module(self, node: ast.Module, ctx: Context) -> None:
        # The comments are collected before the walk goes on (cheap: most files never
        # mention ``noqa: PRD``); whether each is used is only known once every rule has
        # reported, so the engine asks ``unused`` after the walk.
        ctx.memo(COMMENTS_MEMO, lambda: noqa_comments(ctx.text))

    def unused(
        self, ctx: Context, findings: Sequence[Finding], enabled: Sequence[str]
    ) -> list[Finding]:
        """Findings for the comments that suppress nothing, given every finding of the file
        before suppression and the codes of the enabled rules."""
        comments: list[NoqaComment] = ctx.memo(COMMENTS_MEMO, lambda: noqa_comments(ctx.text))
        if not comments:
            return []
        from prodlint.registry import rule_index

        known = [*rule_index()]

        def why(code: str) -> str:
            covered = [rule for rule in known if matches(rule, [code])]
            if not covered:
                return "unknown code"
            return "not enabled" if not any(rule in enabled for rule in covered) else "unused"

        results = []
        for comment, codes in unused_noqa(comments, findings):
            listed = ", ".join(
                f"`{code}`" + ("" if (reason := why(code)) == "unused" else f" ({reason})")
                for code in codes
            )
            results.append(
                Finding(
                    ctx.path,
                    comment.line,
                    comment.col + 1,
                    comment.line,
                    comment.end_col + 1,
                    self.code,
                    self.message.format(codes=listed),
                    self.severity,
                )
            )
        return results
