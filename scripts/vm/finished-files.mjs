// A vitest reporter for scripts/vm/guest-vitest.mjs: appends the path of each test file that has
// ended to the file named by VFIO_TS_FINISHED_FILES, after its state (passed, failed, skipped) and a
// tab, as it ends, so that the list survives a vitest process that dies.
import { appendFileSync } from 'node:fs';

export default class FinishedFiles {
  onTestModuleEnd(testModule) {
    appendFileSync(process.env.VFIO_TS_FINISHED_FILES, `${testModule.state()}\t${testModule.moduleId}\n`);
  }
}
