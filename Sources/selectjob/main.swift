import Foundation
import SelectJobCommands

// A closed reader (`selectjob run a b | head -1`) makes writes fail with EPIPE, which the commands
// report as exit 74, instead of killing the process with SIGPIPE mid-run.
signal(SIGPIPE, SIG_IGN)
SelectJob.main()
