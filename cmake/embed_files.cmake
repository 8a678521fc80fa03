# talus_embed_files(TARGET FUNCTION NAME FILES f1 f2 ...): compiles the files into `target` as
#   namespace talus::web { const std::vector<EmbeddedFile>& NAME(); }
# (declare it where it is used; see common/web/embedded_files.h). Files are named by their base
# name; the content type comes from the extension. Editing a file rebuilds the binary.
function(talus_embed_files target)
  cmake_parse_arguments(E "" "FUNCTION" "FILES" ${ARGN})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${E_FUNCTION}.cc)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DFUNCTION=${E_FUNCTION} "-DFILES=${E_FILES}"
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_files_generate.cmake
    DEPENDS ${E_FILES} ${PROJECT_SOURCE_DIR}/cmake/embed_files_generate.cmake
    COMMENT "Embedding ${E_FUNCTION}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
