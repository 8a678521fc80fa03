// Talus datanode page
