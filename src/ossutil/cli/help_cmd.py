"""``ossutil help [command]`` (reference §12): the command list, or one command's help."""

from __future__ import annotations

from ossutil.cli.command import (
    ADDITIONAL,
    CliError,
    CommandSpec,
    Context,
    check_args,
    check_options,
    chosen_language,
)

SPEC = CommandSpec("help", min_args=0, max_args=1, valid_options=("language", "loglevel"),
                   group=ADDITIONAL)


def language(ctx: Context) -> str:
    """``-L`` > ``language`` in the config file > ``LANG`` (``zh_CN`` -> CH, else EN)."""
    return "CH" if chosen_language(ctx.parsed).upper() == "CH" else "EN"


def run(ctx: Context) -> None:
    from ossutil.cli import help_text, render
    from ossutil.cli.main import COMMANDS

    check_args(SPEC, ctx.args)
    check_options(SPEC, ctx.parsed)
    lang = language(ctx)
    if not ctx.args:
        table = [(name, e.group, e.params, e.synopsis) for name, e in COMMANDS.items()]
        ctx.out.write(help_text.whole_help(table, lang))
        return
    name = ctx.args[0]
    entry = COMMANDS.get(name)
    if entry is None:
        raise CliError(render.no_such_command(name))
    import importlib

    spec = importlib.import_module(entry.module).SPEC
    ctx.out.write(help_text.command_help(name, spec.valid_options, lang))
