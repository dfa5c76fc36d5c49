/** Every agent backend against the one contract: adding a backend is adding a line. */
import { backendContract } from './backend.contract.js';
import {
  claudeCodeSubject,
  codexSubject,
  commandSubject,
  miniSweAgentSubject,
  openCodeSubject,
  openHandsSubject,
} from './backend-subjects.js';

backendContract(commandSubject());
backendContract(claudeCodeSubject());
backendContract(codexSubject());
backendContract(openCodeSubject());
backendContract(miniSweAgentSubject());
backendContract(openHandsSubject());
