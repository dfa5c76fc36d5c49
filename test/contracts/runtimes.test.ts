/** Every runtime against the one contract: adding a runtime is adding a line. */
import { runtimeContract } from './runtime.contract.js';
import { dockerSubject, hostSubject } from './runtime-subjects.js';

runtimeContract(hostSubject());
runtimeContract(dockerSubject());
