# The agent image for runtime docker, for machines with a registry: Node, git, the agent CLIs, the OpenHands
# SDK with Drover's driver, and a
# non-root user. `drover image build` makes the same layout without a registry (debootstrap + docker import).
#   docker build -f docker/agent.Dockerfile -t registry.example.com/drover-agent:1 .   (from the repository root)
#   then set docker.image in the worker's config (or submit --image).
FROM node:20-trixie-slim

# The packages and versions are in agent-packages.json, which `drover image build` reads too.
COPY docker/agent-packages.json /opt/agent-packages.json
RUN apt-get update \
 && apt-get install -y --no-install-recommends $(node -p "require('/opt/agent-packages.json').debian.join(' ')") \
 && rm -rf /var/lib/apt/lists/*

RUN python3 -m venv /opt/drover-openhands \
 && /opt/drover-openhands/bin/pip install --no-cache-dir $(node -p "require('/opt/agent-packages.json').pip.join(' ')")
COPY agents/openhands/drover_openhands.py /opt/drover-openhands/
RUN printf '#!/bin/sh\nexec /opt/drover-openhands/bin/python /opt/drover-openhands/drover_openhands.py "$@"\n' \
      > /usr/local/bin/drover-openhands && chmod 755 /usr/local/bin/drover-openhands

RUN mkdir -p /opt/drover-agents \
 && npm install --no-audit --no-fund --omit=dev --prefix /opt/drover-agents \
      $(node -p "require('/opt/agent-packages.json').npm.join(' ')") \
 && ln -s /opt/drover-agents/node_modules/.bin/claude /opt/drover-agents/node_modules/.bin/codex \
          /opt/drover-agents/node_modules/.bin/opencode /usr/local/bin/

# uid 1000 is "node" in the base image; Drover hands worktrees to uid 1000.
RUN usermod -l agent -d /home/agent -m node && groupmod -n agent node
USER agent
ENV HOME=/home/agent
WORKDIR /home/agent
CMD ["bash"]
