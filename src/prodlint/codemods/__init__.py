"""Each prodlint fix as a libcst codemod command, generated from the rule registry.

``python -m libcst.tool codemod -x prodlint.codemods.rules.<RuleName> PATH`` applies one
rule's fixes, or with ``modules: [prodlint.codemods]`` in ``.libcst.codemod.yaml``:
``python -m libcst.tool codemod rules.<RuleName> PATH``. ``prodlint fix`` stays the main
path; these exist for codebases that already drive their refactors through libcst.
"""
