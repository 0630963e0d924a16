import SelectJobCommands

SelectJob.main()
