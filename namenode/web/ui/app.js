// Talus namenode page
