/** Every command's usage line: what `rewind --help` prints, without loading the commands. */

export const RUN_USAGE = `rewind run <prog.elf|image.bin|run.vmi> | --kernel Image [--initrd F] [--append CMDLINE] | --linux
           [--disk FILE] [--write-disk] [--ram MIB] [--max-instructions N] [--input-file FILE] [--stats] [--raw] [--executor interp|jit] [--screen] [--net]`;
export const RECORD_USAGE =
  'rewind record <prog.elf|image.bin> | --kernel Image [--initrd F] [--append S] | --linux  -o run.vmi [--input-file F] [--disk F] [--ram MIB] [--max-instructions N] [--budget SIZE] [--screen] [--net]';
export const REPLAY_USAGE = 'rewind replay run.vmi [--branch B] [--verify]';
export const STATE_USAGE =
  'rewind state <prog.elf|run.vmi> | --kernel Image ... --at N [--branch B] [--input-file F] [--disk F] [--ram MIB] [--screen]';
export const FORK_USAGE =
  'rewind fork run.vmi --at N [--branch B] [--input-file F] [--name NAME] [--max-instructions N] -o out.vmi';
export const DIFF_USAGE = 'rewind diff run.vmi A B [--json]   (A, B as [branch:]position)';
export const INFO_USAGE = 'rewind info run.vmi [--json]';
export const GDB_USAGE =
  'rewind gdb <prog.elf|run.vmi> [--port N] [--host ADDR] [--input-file F] [--save out.vmi] [--disk F] [--ram MIB] [--screen]';
export const SCREENSHOT_USAGE =
  'rewind screenshot <prog.elf|run.vmi> [--at N] [--branch B] [--input-file F] [--screen] -o out.png';
export const GROUP_USAGE = `rewind group [run] <a.elf> <b.elf>... | --linux <name> <name>... [--quantum N] [--input-file-N F] [--max-instructions N] [--ram MIB] [-o group.vmg]
           | group replay group.vmg [--verify] | group extract group.vmg --vm N|NAME -o vm.vmi
           | group fork group.vmg --at-quantum K [--input-file-N F] -o out.vmg`;
