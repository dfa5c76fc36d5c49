# The agent image for runtime docker, for machines with a registry: Node, git, the agent CLIs, the OpenHands
# SDK with Drover's driver, and a
# non-root user. `drover image build` makes the same layout without a registry (debootstrap + docker import).
#   docker build -f docker/agent.Dockerfile -t registry.example.com/drover-agent:1 .   (from the repository root)
#   then set docker.image in the worker's config (or submit --image).
FROM node:20-trixie-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git procps util-linux python3 python3-venv tmux \
 && rm -rf /var/lib/apt/lists/*

# Keep these in step with OPENHANDS_PACKAGES in src/runtimes/docker/image.ts.
RUN python3 -m venv /opt/drover-openhands \
 && /opt/drover-openhands/bin/pip install --no-cache-dir openhands-sdk==1.58.2 openhands-tools==1.58.2
COPY agents/openhands/drover_openhands.py /opt/drover-openhands/
RUN printf '#!/bin/sh\nexec /opt/drover-openhands/bin/python /opt/drover-openhands/drover_openhands.py "$@"\n' \
      > /usr/local/bin/drover-openhands && chmod 755 /usr/local/bin/drover-openhands

# Keep these in step with AGENT_CLIS in src/runtimes/docker/image.ts.
RUN mkdir -p /opt/drover-agents \
 && npm install --no-audit --no-fund --omit=dev --prefix /opt/drover-agents \
      @anthropic-ai/claude-code@2.1.330 @openai/codex@0.169.0 opencode-ai@1.18.33 \
 && ln -s /opt/drover-agents/node_modules/.bin/claude /opt/drover-agents/node_modules/.bin/codex \
          /opt/drover-agents/node_modules/.bin/opencode /usr/local/bin/

# uid 1000 is "node" in the base image; Drover hands worktrees to uid 1000.
RUN usermod -l agent -d /home/agent -m node && groupmod -n agent node
USER agent
ENV HOME=/home/agent
WORKDIR /home/agent
CMD ["bash"]
