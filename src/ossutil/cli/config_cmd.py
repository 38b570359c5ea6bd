"""``ossutil config``: write the config file, interactively or from options (reference §7.5).

Differences from ossutil 1.7, on purpose: the file is created with mode 0600 (ossutil leaves it
0644 under the usual umask, exposing the secret), keys are written in a fixed order and the
questions are asked in a fixed order (ossutil's follow Go's random map order).
"""

from __future__ import annotations

import os

from ossutil.cli.command import (
    ADDITIONAL,
    CliError,
    CommandSpec,
    Context,
    check_args,
    check_options,
    chosen_language,
    system_language,
)

SPEC = CommandSpec("config", min_args=0, max_args=0, valid_options=(
    "configFile", "endpoint", "accessKeyID", "accessKeySecret", "stsToken", "outputDir",
    "language", "loglevel"), group=ADDITIONAL)

# Written in this order; the first four are asked interactively.
KEYS = ("endpoint", "accessKeyID", "accessKeySecret", "stsToken", "outputDir")
ASKED = KEYS[:4]

TEXT = {
    "EN": {
        "intro": "This command writes a configuration file holding your endpoint and "
                 "credentials (file mode 0600).\n",
        "path": "\nConfig file path (default {default}; press Enter for the default. Other "
                "commands read a different file only with --config-file):",
        "no_path": "No path entered: using {default}\n\n",
        "skip": "Press Enter to leave a setting out. \"ossutil help config\" explains each "
                "one.\n",
        "language": "Language for help and prompts (CH/EN, default {default}; takes effect "
                    "after this command):",
        "key": "Please enter {name}:",
    },
    "CH": {
        "intro": "该命令写入保存endpoint与访问凭证的配置文件（文件权限0600）。\n",
        "path": "\n配置文件路径（默认为：{default}，回车使用默认路径；其它命令需用--config-file"
                "指定非默认路径）：",
        "no_path": "未输入路径，使用：{default}\n\n",
        "skip": "以下各项直接回车表示不设置，各项含义请见\"ossutil help config\"。\n",
        "language": "帮助与提示的语言（CH/EN，默认为：{default}，本命令结束后生效）：",
        "key": "请输入{name}：",
    },
}


def run(ctx: Context) -> None:
    from ossutil.client.config import config_path

    check_args(SPEC, ctx.args)
    check_options(SPEC, ctx.parsed)
    language = chosen_language(ctx.parsed)
    given = {key: ctx.parsed.get(key) for key in KEYS if ctx.parsed.get(key)}
    if given:
        path = config_path(ctx.parsed.get("configFile") or None)
        save(path, [("language", language)] + list(given.items()))
        return
    _interactive(ctx, language, ctx.parsed.get("configFile"))


def _interactive(ctx: Context, language: str, path: str) -> None:
    from ossutil.client.config import config_path

    text = TEXT["CH" if language.upper() == "CH" else "EN"]
    out = ctx.out
    out.write(text["intro"])
    default = config_path(None)
    if not path:
        out.write(text["path"].format(default=default))
        out.flush()
        words = ctx.stdin.readline().split()
        if len(words) == 1:
            path = words[0].decode("utf-8", "surrogateescape")
        else:
            out.write(text["no_path"].format(default=default))
    path = config_path(path or None)
    out.write(text["skip"])
    entries: list[tuple[str, str]] = [("language", language)]
    if not os.path.exists(path):
        out.write(text["language"].format(default=system_language()))
        out.flush()
        words = ctx.stdin.readline().split()
        if len(words) == 1:
            answer = words[0].decode("utf-8", "surrogateescape")
            if answer.upper() not in ("CH", "EN"):
                raise CliError(f"invalid option value of language, the value: {answer} is not "
                               "anyone of CH/EN")
            entries = [("language", answer)]
    for key in ASKED:
        out.write(text["key"].format(name=key))
        out.flush()
        value = ctx.stdin.readline().decode("utf-8", "surrogateescape")
        value = value[:-1] if value.endswith("\n") else value
        if value:
            entries.append((key, value))
    save(path, entries)


def save(path: str, entries: list[tuple[str, str]]) -> None:
    """``[Credentials]`` + ``key=value`` lines; an existing file becomes ``<path>.bak``.

    The new file is created with mode 0600 (ossutil: 0666 before the umask).
    """
    body = "[Credentials]\n" + "".join(f"{key}={value}\n" for key, value in entries)
    try:
        if os.path.lexists(path):
            os.replace(path, path + ".bak")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as error:
        reason = (error.strerror or str(error))
        raise CliError(f"open {path}: {reason[:1].lower() + reason[1:]}") from error
    with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as handle:
        handle.write(body)
    os.chmod(path, 0o600)
