#!/usr/bin/env python3
"""
Drover's driver for the OpenHands SDK: one run of a conversation persisted under --persist, its events
printed as JSON lines for Drover to read. The message comes on stdin. A run with --conversation continues
that persisted conversation (an answer, review feedback, a retry after a crash).

Lines: {"type": "session", "id"}, {"type": "action", "tool", "summary"}, {"type": "message", "text"},
{"type": "error", "text"}, and last {"type": "done", "usage": {...}} or {"type": "failed", "status", "error"}.
The model's endpoint and key come from the environment (LLM_BASE_URL, LLM_API_KEY), never from argv.
"""
import argparse
import json
import os
import sys
import uuid


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def clip(text, n=300):
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def on_event(event):
    kind = type(event).__name__
    if kind == "ActionEvent":
        action = getattr(event, "action", None)
        tool = getattr(event, "tool_name", None) or type(action).__name__
        fields = action.model_dump() if action is not None and hasattr(action, "model_dump") else {}
        summary = fields.get("command") or fields.get("path") or fields.get("message") or ""
        if tool == "file_editor" and fields.get("command") in ("create", "str_replace", "insert"):
            summary = f"{fields.get('command')} {fields.get('path', '')}"
        emit({"type": "action", "tool": tool, "summary": clip(summary)})
    elif kind == "MessageEvent" and getattr(event, "source", "") == "agent":
        message = getattr(event, "llm_message", None)
        parts = getattr(message, "content", []) or []
        text = " ".join(getattr(p, "text", "") for p in parts if getattr(p, "text", ""))
        if text.strip():
            emit({"type": "message", "text": clip(text)})
    elif kind in ("AgentErrorEvent", "ConversationErrorEvent"):
        emit({"type": "error", "text": clip(getattr(event, "error", None) or getattr(event, "detail", "") or kind)})


def model_calls(conversation):
    """The persisted conversation's model calls so far, over all of its runs."""
    metrics = conversation.conversation_stats.get_combined_metrics()
    return len(getattr(metrics, "costs", []) or []) or len(getattr(metrics, "token_usages", []) or [])


def usage_of(conversation, calls_before):
    """Tokens and cost are the conversation's running totals (Drover takes the difference); turns are this run's."""
    metrics = conversation.conversation_stats.get_combined_metrics()
    tokens = metrics.accumulated_token_usage
    return {
        "inputTokens": getattr(tokens, "prompt_tokens", 0) if tokens else 0,
        "outputTokens": getattr(tokens, "completion_tokens", 0) if tokens else 0,
        "cachedInputTokens": getattr(tokens, "cache_read_tokens", 0) if tokens else 0,
        "costUsd": metrics.accumulated_cost or None,
        "turns": max(0, model_calls(conversation) - calls_before),
    }


def http_status(err):
    """The model API's status: the SDK wraps the provider's error (ConversationRunError), so look down the chain."""
    seen = 0
    while err is not None and seen < 5:
        status = getattr(err, "status_code", None)
        if isinstance(status, int):
            return status
        err = err.__cause__ or err.__context__
        seen += 1
    return None


def print_version():
    if sys.version_info < (3, 12):
        print(f"the OpenHands SDK needs Python 3.12 or newer; this is {sys.version.split()[0]}", file=sys.stderr)
        return 1
    try:
        from importlib.metadata import version

        print(f"drover-openhands (openhands-sdk {version('openhands-sdk')}, Python {sys.version.split()[0]})")
    except Exception as err:
        print(f"openhands-sdk is not installed for {sys.executable}: {err}", file=sys.stderr)
        return 1
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--persist", required=True)
    parser.add_argument("--conversation")
    parser.add_argument("--model", required=True)
    parser.add_argument("--max-iterations", type=int, default=100)
    parser.add_argument("--version", action="store_true", help="print the SDK version and exit")
    if "--version" in sys.argv[1:]:
        return print_version()
    args = parser.parse_args()
    message = sys.stdin.read()
    # No banner, no download of litellm's price list (the local copy is used), no telemetry.
    for key, value in (("OPENHANDS_SUPPRESS_BANNER", "1"), ("LITELLM_LOCAL_MODEL_COST_MAP", "True"), ("LOG_LEVEL", "WARNING")):
        os.environ.setdefault(key, value)

    from openhands.sdk import LLM, Agent, Conversation, Tool
    from openhands.tools.file_editor import FileEditorTool
    from openhands.tools.terminal import TerminalTool

    llm = LLM(
        model=args.model,
        api_key=os.environ.get("LLM_API_KEY") or None,
        base_url=os.environ.get("LLM_BASE_URL") or None,
        usage_id="drover",
        num_retries=0,
    )
    agent = Agent(llm=llm, tools=[Tool(name=TerminalTool.name), Tool(name=FileEditorTool.name)])
    conversation_id = uuid.UUID(args.conversation) if args.conversation else uuid.uuid4()
    emit({"type": "session", "id": str(conversation_id)})
    conversation = Conversation(
        agent=agent,
        workspace=args.workspace,
        persistence_dir=args.persist,
        conversation_id=conversation_id,
        callbacks=[on_event],
        visualizer=None,
        max_iteration_per_run=args.max_iterations,
        delete_on_close=False,
    )
    calls_before = model_calls(conversation)
    try:
        conversation.send_message(message)
        conversation.run()
    except Exception as err:  # the model API or the SDK: Drover maps the status to a failure type
        # Not cut short here: Drover redacts the worker's secrets first, then cuts.
        emit({"type": "failed", "status": http_status(err), "error": f"{type(err).__name__}: {err}"[:8000]})
        return 1
    emit({"type": "done", "usage": usage_of(conversation, calls_before)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
